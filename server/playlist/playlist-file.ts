/**
 * How a playlist body reaches the disk: JSON bodies become the same structure in YAML (YAML
 * bodies are kept as written, comments included), and a file is replaced by writing a
 * temporary file beside it and renaming it over, so the watcher and readers never see half a
 * file.
 */
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

/**
 * @example
 * asYaml('{"loop":true}') // 'loop: true\n'
 */
export function asYaml(body: string): string {
  if (body.trimStart().startsWith('{')) {
    try {
      return stringify(JSON.parse(body));
    } catch {
      // Flow-style YAML that is not JSON: keep it as it is.
    }
  }
  return body.endsWith('\n') ? body : `${body}\n`;
}

/** Replaces `file` with `text` in one step, creating its folder when missing. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  // A dot name ending in .tmp: the playlist folder scan skips it.
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  try {
    await writeFile(temp, text, { mode: 0o644 });
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
