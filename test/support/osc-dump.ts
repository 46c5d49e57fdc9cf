import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';

/** A UDP port free a moment ago (oscdump takes a number, not 0). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((done) => socket.bind(0, '127.0.0.1', done));
  const { port } = socket.address();
  await new Promise<void>((done) => socket.close(() => done()));
  return port;
}

/** Debian's oscdump (liblo-tools) on a free port: every message it prints, one line each. */
export async function startOscDump(): Promise<{ port: number; lines: string[]; stop: () => void }> {
  const port = await freeUdpPort();
  const dump = spawn('oscdump', ['-L', String(port)], { stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  let buffered = '';
  dump.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    lines.push(...parts);
  });
  await new Promise((done) => setTimeout(done, 300)); // oscdump binds before it prints anything
  return { port, lines, stop: () => dump.kill() };
}
