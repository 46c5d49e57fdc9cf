/** A socket's side of topic fan-out, as uWS's WebSocket has it; send() returns 0 (queued), 1 (sent) or 2 (dropped). */
export interface TopicSocket {
  send(message: Uint8Array | string, isBinary: boolean): number;
  subscribe(topic: string): boolean;
  /** True when it was subscribed. */
  unsubscribe(topic: string): boolean;
}

/**
 * Where a channel hands a frame to every display of one topic (a mode and rendition). The local
 * one (the default) sends in a JavaScript loop, one `send()` per display; the uWS one
 * (transport/uws-fan-out.ts, `displays.fanOut: "topics"`) makes one publish per topic. Measured
 * (bench/results/present-margin.md, fanout-topics.md), publish is the slower: the cost per display
 * is the socket write, native either way, and uWS copies a frame into a buffer kept per
 * subscriber instead of writing it straight to the socket.
 */
export interface FanOut {
  subscribe(socket: TopicSocket, topic: string): void;
  /** Safe on a socket already closed: a closed socket is in no topic any more. */
  unsubscribe(socket: TopicSocket, topic: string): void;
  /** Sends `message` to every socket subscribed to `topic`, as uWS's app.publish does. */
  publish(topic: string, message: Uint8Array | string, isBinary: boolean): void;
}

export interface LocalFanOut extends FanOut {
  /** Who is in `topic` now. */
  subscribers(topic: string): ReadonlySet<TopicSocket>;
}

/**
 * Topic fan-out in JavaScript, with uWS's meaning: a subscriber gets every publish until it
 * leaves. The sockets themselves never subscribe to anything: a uWS socket that did would lose
 * uWS's no-copy write of a large message (kept for non-subscribers only).
 */
export function createLocalFanOut(): LocalFanOut {
  const topics = new Map<string, Set<TopicSocket>>();
  const none: ReadonlySet<TopicSocket> = new Set();
  return {
    subscribe(socket, topic) {
      let members = topics.get(topic);
      if (!members) {
        members = new Set();
        topics.set(topic, members);
      }
      members.add(socket);
    },
    unsubscribe(socket, topic) {
      const members = topics.get(topic);
      if (!members?.delete(socket)) return;
      if (members.size === 0) topics.delete(topic);
    },
    publish(topic, message, isBinary) {
      for (const socket of topics.get(topic) ?? []) socket.send(message, isBinary);
    },
    subscribers: (topic) => topics.get(topic) ?? none,
  };
}
