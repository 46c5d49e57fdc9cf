/** A socket's side of topic fan-out, as uWS's WebSocket has it; send() returns 0 (queued), 1 (sent) or 2 (dropped). */
export interface TopicSocket {
  send(message: Uint8Array | string, isBinary: boolean): number;
  subscribe(topic: string): boolean;
  /** True when it was subscribed. */
  unsubscribe(topic: string): boolean;
}

/**
 * Where a channel hands a frame to every display of one topic (a mode and rendition). The uWS
 * one (transport/uws-fan-out.ts) sends in native code, one loop per topic instead of one
 * `socket.send` per display in JavaScript; the local one does the same sends in JavaScript, for
 * unit tests and for a canvas run with no uWS app behind it.
 */
export interface FanOut {
  subscribe(socket: TopicSocket, topic: string): void;
  /** Safe on a socket already closed: a closed socket is in no topic any more. */
  unsubscribe(socket: TopicSocket, topic: string): void;
  /** Sends `message` to every socket subscribed to `topic`, as uWS's app.publish does. */
  publish(topic: string, message: Uint8Array | string, isBinary: boolean): void;
}

/** Topic fan-out in JavaScript, with uWS's meaning: a subscriber gets every publish until it leaves. */
export function createLocalFanOut(): FanOut {
  const topics = new Map<string, Set<TopicSocket>>();
  return {
    subscribe(socket, topic) {
      socket.subscribe(topic);
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
      socket.unsubscribe(topic);
      if (members.size === 0) topics.delete(topic);
    },
    publish(topic, message, isBinary) {
      for (const socket of topics.get(topic) ?? []) socket.send(message, isBinary);
    },
  };
}
