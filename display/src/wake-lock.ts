/** How often to try again when the browser refused a wake lock (policy, battery saver). */
const RETRY_MS = 60_000;

/**
 * Keeps the screen on while the page is visible, where the browser has the Screen Wake Lock
 * API (Chromium on a secure context: https, localhost, or an origin the kiosk flags mark
 * secure). The browser drops the lock whenever the page is hidden; it is asked for again when
 * the page is visible. A refusal is not an error for a wall display: the OS settings apply.
 * Returns a function that lets the lock go.
 */
export function keepScreenAwake(): () => void {
  if (!('wakeLock' in navigator) || !navigator.wakeLock) return () => {};
  let sentinel: WakeLockSentinel | undefined;
  let asking = false;
  let stopped = false;

  const acquire = () => {
    if (stopped || asking || document.visibilityState !== 'visible' || (sentinel && !sentinel.released)) return;
    asking = true;
    navigator.wakeLock
      .request('screen')
      .then((lock) => {
        sentinel = lock;
        if (stopped) void lock.release().catch(() => {});
      })
      .catch(() => {
        // Not allowed here; the periodic retry asks again.
      })
      .finally(() => {
        asking = false;
      });
  };

  document.addEventListener('visibilitychange', acquire);
  const retry = window.setInterval(acquire, RETRY_MS);
  acquire();
  return () => {
    stopped = true;
    document.removeEventListener('visibilitychange', acquire);
    window.clearInterval(retry);
    void sentinel?.release().catch(() => {});
  };
}
