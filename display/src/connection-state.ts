/** Where a display's connection is. The element renders from it with an exhaustive switch. */
export const ConnectionState = {
  /** Not trying: the element is not in a document, or has no valid slug. */
  Idle: 'idle',
  /** A socket is being opened. */
  Connecting: 'connecting',
  /** Connected: hello and frames flow. */
  Open: 'open',
  /** The connection was lost; the next try is scheduled (backoff with jitter). */
  Waiting: 'waiting',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];
