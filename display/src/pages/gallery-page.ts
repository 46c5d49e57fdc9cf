import '../gallery/easel-gallery.js';

// /gallery — the archive of generated frames. Like the console, a normal scrolling page.
document.body.append(document.createElement('easel-gallery'));
