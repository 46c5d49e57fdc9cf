import type { TemplatedApp } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { createUwsFanOut } from './uws-fan-out.js';

describe('createUwsFanOut', () => {
  it('publishes through the app, with the binary flag', () => {
    const calls: unknown[][] = [];
    const app = { publish: (...args: unknown[]) => calls.push(args) > 0 } as unknown as TemplatedApp;
    const message = Buffer.from([1, 2]);
    createUwsFanOut(app).publish('canvas-1|binary|webp', message, true);
    expect(calls).toEqual([['canvas-1|binary|webp', message, true]]);
  });

  it('lets a socket uWS.js already closed leave its topic without throwing', () => {
    const fanOut = createUwsFanOut({} as TemplatedApp);
    const closed = {
      send: () => 1,
      subscribe: () => true,
      unsubscribe: (): boolean => {
        throw new Error('Invalid access of closed uWS.WebSocket/SSLWebSocket.');
      },
    };
    expect(() => fanOut.unsubscribe(closed, 'canvas-1|binary|webp')).not.toThrow();
  });
});
