import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { assertStorageKey, type FileStorage, STORAGE_KEY } from "./storage.js";

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === "ENOENT";

/**
 * Files in a folder (`<dataDir>/files/<first two characters>/<key>`). A put writes a temporary file,
 * flushes it and renames it into place, so a reader never sees half a file, even after a crash.
 */
export function createLocalStorage(dir: string): FileStorage {
  const pathOf = (key: string) => {
    assertStorageKey(key);
    return join(dir, key.slice(0, 2), key);
  };
  return {
    kind: "local",
    async put(key, body) {
      const target = pathOf(key);
      const folder = join(dir, key.slice(0, 2));
      await mkdir(folder, { recursive: true });
      const temporary = join(folder, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
      const handle = await open(temporary, "wx", 0o640);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async putFile(key, source) {
      const target = pathOf(key);
      const folder = join(dir, key.slice(0, 2));
      await mkdir(folder, { recursive: true });
      const temporary = join(folder, `.${key}.${randomBytes(6).toString("hex")}.tmp`);
      try {
        // Copied, not renamed: the source may be on another file system (the temporary folder).
        // `flush`: synced to disk before it is closed, like `put`.
        await pipeline(
          createReadStream(source),
          createWriteStream(temporary, { flags: "wx", mode: 0o640, flush: true }),
        );
        await rename(temporary, target);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async get(key) {
      const path = pathOf(key);
      let handle: FileHandle;
      try {
        handle = await open(path, "r");
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      try {
        const { size } = await handle.stat();
        // The stream reads the file opened here (and closes it): a delete meanwhile cannot break it.
        return { body: handle.createReadStream(), size };
      } catch (error) {
        await handle.close();
        throw error;
      }
    },
    async delete(key) {
      await rm(pathOf(key), { force: true });
    },
    async size(key) {
      try {
        return (await stat(pathOf(key))).size;
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
    },
    async *list() {
      const folders = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
        if (isMissing(error)) return [];
        throw error;
      });
      for (const folder of folders) {
        if (!folder.isDirectory()) continue;
        // Temporary files of puts in progress start with a dot: not stored (yet).
        for (const name of await readdir(join(dir, folder.name)))
          if (STORAGE_KEY.test(name) && name.slice(0, 2) === folder.name) yield name;
      }
    },
    close() {},
  };
}
