import '../easel-wall.js';
import { parsePageOptions, wallGrid, wallSlugs } from '../page-options.js';
import { setUpDisplayPage } from './page-setup.js';

// /wall?slugs=a,b — several canvases side by side (default left-canva,right-canva);
// /wall?grid=lobby — the tiles of one tiled canvas in their places.
const wall = document.createElement('easel-wall');
const grid = wallGrid(window.location.search);
if (grid) wall.grid = grid;
else wall.slugs = wallSlugs(window.location.search);
wall.options = parsePageOptions(window.location.search);
document.title = grid ? `Easel · ${grid} wall` : `Easel · ${wall.slugs.join(' · ')}`;
document.body.append(wall);
setUpDisplayPage();
