import type { Readable } from "node:stream";
import type { FileStorage, StoredObject } from "./storage.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Keeps recently read small files in memory (least recently used first out), so serving a logo is
 * not a file open or an S3 round trip per request. Keys are content-addressed, so a cached copy is
 * never stale; a delete through this process drops it. Another process's copy of a deleted file
 * lives until evicted or restarted, like the copies browsers keep for a year (the URL was public).
 */
export function withReadCache(
  inner: FileStorage,
  limits: { maxBytes: number; maxFileBytes: number } = {
    maxBytes: 32 * 1024 * 1024,
    maxFileBytes: 1024 * 1024,
  },
): FileStorage {
  const cache = new Map<string, Buffer>();
  let held = 0;
  const remember = (key: string, bytes: Buffer) => {
    if (bytes.length > limits.maxFileBytes) return;
    cache.delete(key);
    cache.set(key, bytes);
    held += bytes.length;
    for (const [oldest, value] of cache) {
      if (held <= limits.maxBytes) break;
      cache.delete(oldest);
      held -= value.length;
    }
  };
  const forget = (key: string) => {
    const value = cache.get(key);
    if (!value) return;
    cache.delete(key);
    held -= value.length;
  };
  return {
    kind: inner.kind,
    async put(key, body, contentType) {
      await inner.put(key, body, contentType);
    },
    async putFile(key, path, contentType) {
      forget(key);
      await inner.putFile(key, path, contentType);
    },
    async get(key): Promise<StoredObject | undefined> {
      const cached = cache.get(key);
      if (cached) {
        // Most recently used goes last.
        cache.delete(key);
        cache.set(key, cached);
        return { bytes: cached, size: cached.length };
      }
      const found = await inner.get(key);
      if (!found?.body || found.size > limits.maxFileBytes) return found;
      const bytes = await readAll(found.body);
      remember(key, bytes);
      return { bytes, size: bytes.length };
    },
    async delete(key) {
      forget(key);
      await inner.delete(key);
    },
    async size(key) {
      return cache.get(key)?.length ?? inner.size(key);
    },
    list: () => inner.list(),
    close() {
      cache.clear();
      inner.close();
    },
  };
}
