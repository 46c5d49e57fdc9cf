import '../console/easel-console.js';

// /operator — the technician's console. The page is <easel-console> and nothing else; unlike the
// display pages it is a normal page: it scrolls, has a cursor, and its text can be selected.
document.body.append(document.createElement('easel-console'));
