import type { TemplatedApp } from 'uWebSockets.js';
import type { FanOut } from '../canvas/fan-out.js';

/**
 * Topic fan-out through uWS: app.publish sends to every subscriber in native code. A frame is
 * over uWS's 16 KiB cork buffer, so each subscriber gets a plain send() at once (TopicTree's
 * publishBig); smaller messages are queued per subscriber and written when the event loop
 * turn ends, ahead of anything sent to that socket later. A subscriber whose buffer is over
 * maxBackpressure is skipped (closeOnBackpressureLimit is off): the channel takes busy displays
 * out of their topic before each publish, so that limit is never what decides.
 */
export function createUwsFanOut(app: TemplatedApp): FanOut {
  return {
    subscribe: (socket, topic) => void socket.subscribe(topic),
    unsubscribe(socket, topic) {
      try {
        socket.unsubscribe(topic);
      } catch {
        // uWS.js throws on a closed socket (a display's close handler ends here); uWS already
        // took it out of every topic before calling that handler.
      }
    },
    publish: (topic, message, isBinary) => void app.publish(topic, message, isBinary),
  };
}
