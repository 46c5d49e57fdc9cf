import { keepScreenAwake } from '../wake-lock.js';

/**
 * What every display page does besides its element: no context menu, no dragging, no text
 * selection (a stray touch on a wall screen must change nothing), and the screen kept awake.
 */
export function setUpDisplayPage(): void {
  const block = (event: Event) => event.preventDefault();
  document.addEventListener('contextmenu', block);
  document.addEventListener('dragstart', block);
  document.addEventListener('selectstart', block);
  keepScreenAwake();
}
