import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseStorageUrl } from "../config.js";
import { type S3Server, startS3Server } from "../testing/s3-server.js";
import { createLocalStorage } from "./local-storage.js";
import { withReadCache } from "./read-cache.js";
import { createS3Storage } from "./s3-storage.js";
import type { FileStorage } from "./storage.js";

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

let s3: S3Server;
let localDir: string;
beforeAll(async () => {
  s3 = await startS3Server();
  localDir = mkdtempSync(join(tmpdir(), "gatehouse-files-"));
});
afterAll(async () => {
  await s3?.close();
  rmSync(localDir, { recursive: true, force: true });
});

const stores: Array<[string, () => FileStorage]> = [
  ["the data folder", () => createLocalStorage(localDir)],
  [
    "S3 (s3rver)",
    () =>
      createS3Storage({
        kind: "s3",
        bucket: s3.bucket,
        prefix: "unit/",
        endpoint: s3.endpoint,
        region: "us-east-1",
        forcePathStyle: true,
      }),
  ],
];

describe.each(stores)("file storage in %s", (_name, make) => {
  it("puts, reads back as a stream, sizes and deletes a file", async () => {
    const storage = make();
    try {
      const body = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      expect(await storage.get("abc123.png")).toBeUndefined();
      expect(await storage.size("abc123.png")).toBeUndefined();
      await storage.put("abc123.png", body, "image/png");
      expect(await storage.size("abc123.png")).toBe(body.length);
      const read = await storage.get("abc123.png");
      expect(read?.size).toBe(body.length);
      expect((await readAll(read?.body as Readable)).equals(body)).toBe(true);
      // Putting a key again replaces it whole.
      await storage.put("abc123.png", Buffer.from("second"), "image/png");
      expect(await storage.size("abc123.png")).toBe(6);
      await storage.delete("abc123.png");
      expect(await storage.get("abc123.png")).toBeUndefined();
      // Deleting what is gone is no error.
      await storage.delete("abc123.png");
    } finally {
      storage.close();
    }
  });

  it("lists every stored key (what a backup copies), and no longer a deleted one", async () => {
    const storage = withReadCache(make());
    try {
      const keys = ["list1.png", "list2.webp", "ab-list3.zip"];
      for (const key of keys) await storage.put(key, Buffer.from(key), "application/octet-stream");
      const listed = async () => {
        const found: string[] = [];
        for await (const key of storage.list()) found.push(key);
        return found;
      };
      expect(await listed()).toEqual(expect.arrayContaining(keys));
      await storage.delete("list2.webp");
      const after = await listed();
      expect(after).toEqual(expect.arrayContaining(["list1.png", "ab-list3.zip"]));
      expect(after).not.toContain("list2.webp");
      for (const key of keys) await storage.delete(key);
    } finally {
      storage.close();
    }
  });

  it("stores a file from disk as a stream (exports), whole", async () => {
    const storage = make();
    const source = join(localDir, "source.bin");
    try {
      const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
      writeFileSync(source, body);
      await storage.putFile("export-abc.zip", source, "application/zip");
      expect(await storage.size("export-abc.zip")).toBe(body.length);
      const read = await storage.get("export-abc.zip");
      expect((await readAll(read?.body as Readable)).equals(body)).toBe(true);
      await storage.delete("export-abc.zip");
      await expect(storage.putFile("../x.zip", source, "application/zip")).rejects.toThrow(RangeError);
    } finally {
      rmSync(source, { force: true });
      storage.close();
    }
  });

  it("refuses keys that could leave its folder or prefix", async () => {
    const storage = make();
    try {
      for (const key of [
        "../secret.key",
        "a/b.png",
        "",
        ".hidden",
        "A.png",
        "x".repeat(200),
        "a\u0000.png",
      ]) {
        await expect(storage.put(key, Buffer.from("x"), "image/png"), key).rejects.toThrow(RangeError);
        await expect(storage.get(key), key).rejects.toThrow(RangeError);
      }
    } finally {
      storage.close();
    }
  });
});

describe("the data folder's writes", () => {
  it("leave no temporary files behind, also when many writes of one key race", async () => {
    const storage = createLocalStorage(localDir);
    const bodies = Array.from({ length: 20 }, (_, i) => Buffer.alloc(10_000 + i, i));
    await Promise.all(bodies.map((b) => storage.put("race1.webp", b, "image/webp")));
    const read = await readAll((await storage.get("race1.webp"))?.body as Readable);
    // Whole: exactly one of the bodies, never a mix.
    expect(bodies.some((b) => b.equals(read))).toBe(true);
    expect(readdirSync(join(localDir, "ra"))).toEqual(["race1.webp"]);
  });
});

describe("STORAGE_URL", () => {
  it("reads bucket, prefix, endpoint, region and path style", () => {
    expect(
      parseStorageUrl(
        "s3://my-bucket/gatehouse/files/?endpoint=http://127.0.0.1:9000&region=eu-west-1&force_path_style=true",
        "/data",
      ),
    ).toEqual({
      kind: "s3",
      bucket: "my-bucket",
      prefix: "gatehouse/files/",
      endpoint: "http://127.0.0.1:9000",
      region: "eu-west-1",
      forcePathStyle: true,
    });
    expect(parseStorageUrl("s3://bucket", "/data")).toMatchObject({ prefix: "", region: "us-east-1" });
    expect(parseStorageUrl(undefined, "/srv/gatehouse")).toEqual({
      kind: "local",
      dir: "/srv/gatehouse/files",
    });
  });

  it("stops the start on a bad value, naming the variable", () => {
    for (const bad of [
      "file:///tmp/files",
      "s3://",
      "s3://Upper_Case",
      "s3://key:secret@bucket",
      "s3://bucket/pre%20fix",
      "s3://bucket/a//%3F",
      "s3://bucket?endpoint=ftp://x",
      "s3://bucket?endpoint=not a url",
      "s3://bucket?regoin=eu-west-1",
      "s3://bucket?force_path_style=yes",
      "s3://bucket?region=eu west",
      "not a url",
    ]) {
      expect(() => loadConfig({ DATABASE_URL: "sqlite::memory:", STORAGE_URL: bad }), bad).toThrow(
        ConfigError,
      );
      expect(() => loadConfig({ DATABASE_URL: "sqlite::memory:", STORAGE_URL: bad }), bad).toThrow(
        /STORAGE_URL/,
      );
    }
  });

  it("keeps local files under DATA_DIR, or beside the SQLite file", () => {
    expect(loadConfig({ DATABASE_URL: "sqlite:/srv/gh/db.sqlite" }).storage).toEqual({
      kind: "local",
      dir: "/srv/gh/files",
    });
    expect(loadConfig({ DATABASE_URL: "sqlite:/srv/gh/db.sqlite", DATA_DIR: localDir }).storage).toEqual({
      kind: "local",
      dir: join(localDir, "files"),
    });
  });
});

describe("the read cache", () => {
  it("serves recent small files from memory, evicts the least recently used, and forgets deleted ones", async () => {
    const inner = createLocalStorage(localDir);
    const storage = withReadCache(inner, { maxBytes: 250, maxFileBytes: 100 });
    for (const key of ["c1.png", "c2.png", "c3.png"])
      await storage.put(key, Buffer.alloc(100, key), "image/png");
    await storage.put("big.png", Buffer.alloc(101, 1), "image/png");
    expect((await storage.get("c1.png"))?.bytes?.length).toBe(100);
    expect((await storage.get("c2.png"))?.bytes?.length).toBe(100);
    // Cached: the file itself can go (behind the cache's back) and c1 and c2 are still served.
    await inner.delete("c1.png");
    expect((await storage.get("c1.png"))?.bytes?.length).toBe(100);
    // A third file passes 250 bytes: the least recently used (c2; c1 was just read) leaves.
    await storage.get("c3.png");
    await inner.delete("c2.png");
    expect(await storage.get("c2.png")).toBeUndefined();
    expect((await storage.get("c1.png"))?.bytes?.length).toBe(100);
    // Too big to cache: streamed from storage each time.
    expect((await storage.get("big.png"))?.body).toBeDefined();
    // A delete through the cache is a delete.
    await storage.delete("c1.png");
    expect(await storage.get("c1.png")).toBeUndefined();
    expect(await storage.size("c1.png")).toBeUndefined();
  });
});
