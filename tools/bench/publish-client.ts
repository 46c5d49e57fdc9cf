/**
 * The load client of publish-vs-send.ts (forked by it, never run by hand): opens the sockets of
 * both sets, and for every frame of each set notes when its first and its last copy arrived.
 * A message is `[set, frame (uint32 BE), …payload]`.
 */
import WebSocket from 'ws';
import { epochNow } from './support/main-module.js';

const [url, countText] = process.argv.slice(2);
const count = Number(countText);
/** `${set}|${frame}` → [first arrival, last arrival, copies]. */
const frames = new Map<string, [number, number, number]>();

async function main() {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: Math.min(100, count - i) }, () => {
      const s = new WebSocket(url!, { perMessageDeflate: false, skipUTF8Validation: true });
      sockets.push(s);
      s.on('message', (data: Buffer) => {
        const at = epochNow();
        const id = `${data[0]}|${data.readUInt32BE(1)}`;
        const seen = frames.get(id);
        if (seen) {
          seen[1] = at;
          seen[2]++;
        } else frames.set(id, [at, at, 1]);
      });
      return new Promise((resolve, reject) => {
        s.once('open', resolve);
        s.once('error', reject);
      });
    });
    await Promise.all(batch);
  }
  process.send!({ type: 'open' });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'report') process.send!({ type: 'report', frames: [...frames] });
    if (m.type === 'close') {
      for (const s of sockets) s.terminate();
      process.exit(0);
    }
  });
}

process.on('disconnect', () => process.exit(0));
void main();
