/**
 * A first-in first-out queue whose `take()` waits for the next item when it is empty: the
 * hand-over point between a producer that runs ahead (generation) and one consumer that pulls
 * at its own pace (the canvas). At most one `take()` may be waiting, as Source.next requires.
 */
export interface WaitingQueue<T> {
  /** Hands the item to the waiting taker, or queues it. */
  push(item: T): void;
  /** The oldest item, or waits for one. Rejects with the signal's reason when it aborts. */
  take(signal: AbortSignal): Promise<T>;
  /** Drops every queued item (a waiting taker keeps waiting). */
  clear(): void;
  /** Rejects a waiting taker with `reason` and drops every queued item. */
  fail(reason: unknown): void;
  readonly length: number;
}

/**
 * @example
 * const queue = createWaitingQueue<SourceImage>();
 * queue.push(image);
 * const next = await queue.take(signal);
 */
export function createWaitingQueue<T>(): WaitingQueue<T> {
  const items: T[] = [];
  let waiter: { resolve: (item: T) => void; reject: (reason: unknown) => void } | undefined;

  return {
    push(item) {
      const w = waiter;
      waiter = undefined;
      if (w) w.resolve(item);
      else items.push(item);
    },
    take(signal) {
      if (signal.aborted) return Promise.reject(signal.reason);
      if (items.length > 0) return Promise.resolve(items.shift()!);
      return new Promise<T>((resolve, reject) => {
        const onAbort = () => {
          waiter = undefined;
          reject(signal.reason);
        };
        signal.addEventListener('abort', onAbort, { once: true });
        const settle = () => signal.removeEventListener('abort', onAbort);
        waiter = {
          resolve: (item) => {
            settle();
            resolve(item);
          },
          reject: (reason) => {
            settle();
            reject(reason);
          },
        };
      });
    },
    clear() {
      items.length = 0;
    },
    fail(reason) {
      const w = waiter;
      waiter = undefined;
      items.length = 0;
      w?.reject(reason);
    },
    get length() {
      return items.length;
    },
  };
}
