/**
 * Encoded renditions of images whose bytes come back again (a looping folder), kept by least
 * recent use up to a byte budget, so the second time round a folder costs no encoding at all.
 */
export interface RenditionCache<V extends { data: Uint8Array }> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  readonly bytes: number;
  readonly size: number;
}

export function createRenditionCache<V extends { data: Uint8Array }>(maxBytes: number): RenditionCache<V> {
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recent.
  const entries = new Map<string, V>();
  let bytes = 0;

  return {
    get(key) {
      const value = entries.get(key);
      if (value !== undefined) {
        entries.delete(key);
        entries.set(key, value);
      }
      return value;
    },
    set(key, value) {
      if (value.data.byteLength > maxBytes) return;
      const old = entries.get(key);
      if (old) {
        bytes -= old.data.byteLength;
        entries.delete(key);
      }
      entries.set(key, value);
      bytes += value.data.byteLength;
      for (const [oldest, v] of entries) {
        if (bytes <= maxBytes) break;
        entries.delete(oldest);
        bytes -= v.data.byteLength;
      }
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return entries.size;
    },
  };
}
