import '../easel-canvas.js';
import { parsePageOptions, slugFromLocation } from '../page-options.js';
import { setUpDisplayPage } from './page-setup.js';

// /c/:slug — one canvas, full viewport. The server has already refused an invalid slug with 400.
const options = parsePageOptions(window.location.search);
const slug = slugFromLocation(window.location.pathname, window.location.search) ?? '';
const canvas = document.createElement('easel-canvas');
canvas.slug = slug;
if (options.fit) canvas.fit = options.fit;
canvas.transition = options.transition;
canvas.transitionMs = options.transitionMs;
canvas.placeholder = options.placeholder;
canvas.accept = options.accept;
canvas.tile = options.tile;
canvas.showTime = options.showTime;
canvas.showLabel = options.showLabel;
document.title = slug ? `Easel · ${slug}${options.tile ? ` · tile ${options.tile}` : ''}` : 'Easel';
document.body.append(canvas);
setUpDisplayPage();
