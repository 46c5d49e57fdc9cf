import '../easel-wall.js';
import { parsePageOptions, wallSlugs } from '../page-options.js';
import { setUpDisplayPage } from './page-setup.js';

// /wall?slugs=a,b — several canvases side by side (default left-canva,right-canva).
const wall = document.createElement('easel-wall');
wall.slugs = wallSlugs(window.location.search);
wall.options = parsePageOptions(window.location.search);
document.title = `Easel · ${wall.slugs.join(' · ')}`;
document.body.append(wall);
setUpDisplayPage();
