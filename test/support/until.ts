/**
 * Polls `check` until it gives something other than undefined: tests wait for a state to be
 * reached, never for a fixed time to pass, so a busy box only makes them slower. A check that
 * throws counts as "not yet" (a node still starting, a connection refused); its last error is
 * in the message if the state is never reached.
 */
export async function until<T>(check: () => Promise<T | undefined> | T | undefined, withinMs = 30_000, everyMs = 50): Promise<T> {
  const end = Date.now() + withinMs;
  let lastError: unknown;
  for (;;) {
    try {
      const got = await check();
      if (got !== undefined) return got;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > end) {
      const why =
        lastError === undefined ? '' : `; the last check threw: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`state not reached within ${withinMs} ms${why}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
