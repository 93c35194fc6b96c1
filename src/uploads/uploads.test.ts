import { readdirSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { Readable } from "node:stream";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import {
  gifImage,
  HTML_AS_PNG,
  imageUpload,
  jpegWithGps,
  multipartBody,
  noisyJpeg,
  pngBomb,
  pngImage,
  pngMagicThenHtml,
  SVG_WITH_SCRIPT,
  webpImage,
} from "../testing/images.js";
import { type S3Server, startS3Server } from "../testing/s3-server.js";

type Upload = { payload: Buffer; headers: Record<string, string> };

/** A multipart PUT as the browser client (session cookie + CSRF token), or with the given headers only. */
async function put(
  t: TestApp,
  client: Client | null,
  url: string,
  upload: Upload,
  headers: Record<string, string> = {},
) {
  const response = await t.app.inject({
    method: "PUT",
    url,
    payload: upload.payload,
    headers: {
      ...upload.headers,
      ...(client?.cookie ? { cookie: `gatehouse_session=${client.cookie}` } : {}),
      ...(client?.csrf ? { "x-csrf-token": client.csrf } : {}),
      ...headers,
    },
  });
  const json = response.headers["content-type"]?.toString().includes("json") ? response.json() : {};
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies freely
  return Object.assign(response, { body: json as Record<string, any> });
}

const fileKey = (url: string) => new URL(url).pathname.replace(/^\/files\//, "");

async function fetchFile(t: TestApp, url: string, headers: Record<string, string> = {}) {
  return t.app.inject({ method: "GET", url: new URL(url).pathname, headers });
}

describe.each(testDialects())("logo and avatar uploads on %s", (dialect) => {
  let t: TestApp;
  let root: Awaited<ReturnType<typeof signUpAndLogin>>;
  let logoUrl: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "upload-root@example.com", account: "Upload Co" });
    logoUrl = `/api/v1/accounts/${root.accountId}/logo`;
  });
  afterAll(() => t?.close());

  it("takes a PNG logo, keeps its transparency and shape, and serves both sizes with immutable caching", async () => {
    const response = await put(
      t,
      root.client,
      logoUrl,
      imageUpload(await pngImage(1600, 400, { transparent: true }), "logo.png"),
    );
    expect(response.statusCode, response.payload).toBe(200);
    const { logo_url, logo_thumb_url } = response.body;
    expect(logo_url).toMatch(/^http:\/\/gatehouse\.test\/files\/[0-9a-f]{40}\.png$/);
    expect(logo_thumb_url).toMatch(/^http:\/\/gatehouse\.test\/files\/[0-9a-f]{40}\.png$/);
    const large = await fetchFile(t, logo_url);
    expect(large.statusCode).toBe(200);
    expect(large.headers["content-type"]).toBe("image/png");
    expect(large.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(large.headers["content-security-policy"]).toBe("default-src 'none'");
    expect(large.headers["x-content-type-options"]).toBe("nosniff");
    expect(Number(large.headers["content-length"])).toBe(large.rawPayload.length);
    const meta = await sharp(large.rawPayload).metadata();
    expect([meta.width, meta.height, meta.hasAlpha]).toEqual([512, 128, true]);
    const small = await sharp((await fetchFile(t, logo_thumb_url)).rawPayload).metadata();
    expect([small.width, small.height]).toEqual([128, 32]);
    // The account, GET included, says the same.
    const account = await root.client.get(`/api/v1/accounts/${root.accountId}`);
    expect(account.body.logo_url).toBe(logo_url);
    // A cached copy is confirmed without the body.
    const again = await fetchFile(t, logo_url, { "if-none-match": large.headers.etag as string });
    expect(again.statusCode).toBe(304);
    expect(again.rawPayload.length).toBe(0);
  });

  it("takes JPEG and WebP too, and a small image is not blown up", async () => {
    for (const [image, name] of [
      [await noisyJpeg(300, 200, 80), "photo.jpg"],
      [await webpImage(100, 60), "pic.webp"],
    ] as const) {
      const response = await put(
        t,
        root.client,
        logoUrl,
        imageUpload(image, name, "application/octet-stream"),
      );
      expect(response.statusCode, response.payload).toBe(200);
      const meta = await sharp((await fetchFile(t, response.body.logo_url)).rawPayload).metadata();
      expect(meta.format).toBe("png");
      expect(meta.width).toBeLessThanOrEqual(512);
      if (name === "pic.webp") expect([meta.width, meta.height]).toEqual([100, 60]);
    }
  });

  it("strips EXIF (the GPS position, the owner's name) from an avatar and squares it", async () => {
    const photo = await jpegWithGps(640, 480);
    const exif = (await sharp(photo).metadata()).exif as Buffer;
    // The upload really carries a GPS block (tag 0x8825, little-endian) and the name.
    expect(exif.indexOf(Buffer.from([0x25, 0x88]))).toBeGreaterThan(0);
    expect(exif.toString("latin1")).toContain("Secret Owner");
    const response = await put(
      t,
      root.client,
      "/api/v1/me/avatar",
      imageUpload(photo, "me.jpg", "image/jpeg"),
    );
    expect(response.statusCode, response.payload).toBe(200);
    expect(response.body.avatar_url).toMatch(/\/files\/[0-9a-f]{40}\.webp$/);
    for (const [url, side] of [
      [response.body.avatar_url, 256],
      [response.body.avatar_thumb_url, 64],
    ] as const) {
      const served = await fetchFile(t, url);
      expect(served.headers["content-type"]).toBe("image/webp");
      const meta = await sharp(served.rawPayload).metadata();
      expect([meta.width, meta.height, meta.exif, meta.xmp]).toEqual([side, side, undefined, undefined]);
      expect(served.rawPayload.toString("latin1")).not.toContain("Secret Owner");
      expect(served.rawPayload.includes(Buffer.from("Exif"))).toBe(false);
    }
    // GET /me, GET /session and the member list show it.
    expect((await root.client.get("/api/v1/me")).body.avatar_url).toBe(response.body.avatar_url);
    expect((await root.client.get("/api/v1/session")).body.user.avatar_url).toBe(response.body.avatar_url);
    const members = await root.client.get(`/api/v1/accounts/${root.accountId}/members`);
    const me = members.body.data.find((m: { user_id: string }) => m.user_id === root.userId);
    expect(me.avatar_url).toBe(response.body.avatar_url);
    expect(me.avatar_thumb_url).toBe(response.body.avatar_thumb_url);
    const one = await root.client.get(`/api/v1/accounts/${root.accountId}/members/${root.userId}`);
    expect(one.body.avatar_url).toBe(response.body.avatar_url);
  });

  it("refuses what is not a PNG, JPEG or WebP whatever its name says, and bombs without decoding them", async () => {
    const cases: Array<[string, Buffer, number, string]> = [
      ["HTML named .png", HTML_AS_PNG, 415, "unsupported_media_type"],
      ["SVG with a script", SVG_WITH_SCRIPT, 415, "unsupported_media_type"],
      ["GIF", await gifImage(), 415, "unsupported_media_type"],
      ["PNG magic number, then HTML", pngMagicThenHtml(), 400, "invalid_image"],
      ["20000×20000 PNG bomb", pngBomb(20_000), 400, "invalid_image"],
      ["truncated PNG", (await pngImage(400, 400)).subarray(0, 300), 400, "invalid_image"],
      ["truncated JPEG", (await noisyJpeg(400, 400)).subarray(0, 2000), 400, "invalid_image"],
      ["empty file", Buffer.alloc(0), 400, "invalid_image"],
    ];
    const before = (await root.client.get(`/api/v1/accounts/${root.accountId}`)).body.logo_url;
    const rssBefore = process.memoryUsage().rss;
    for (const [label, bytes, status, code] of cases) {
      for (const url of [logoUrl, "/api/v1/me/avatar"]) {
        const response = await put(t, root.client, url, imageUpload(bytes, "innocent.png", "image/png"));
        expect(response.statusCode, `${label} ${url}: ${response.payload}`).toBe(status);
        expect(response.body.code, label).toBe(code);
        expect(response.headers["content-type"]).toContain("application/problem+json");
      }
    }
    // The bomb was refused from its header: 20000² pixels were never allocated (~400 MB grey, 1.6 GB RGBA).
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect((await root.client.get(`/api/v1/accounts/${root.accountId}`)).body.logo_url).toBe(before);
  });

  it("refuses more than 2 MB with 413, before or while reading, and malformed forms with 4xx", async () => {
    const big = await noisyJpeg(1600, 1200, 100);
    expect(big.length).toBeGreaterThan(2 * 1024 * 1024);
    const tooBig = await put(t, root.client, logoUrl, imageUpload(big, "big.jpg", "image/jpeg"));
    expect(tooBig.statusCode, tooBig.payload).toBe(413);
    expect(tooBig.body.code).toBe("payload_too_large");
    // A body without a declared length (chunked) is cut at the limit by the parser instead: one
    // byte over is refused, exactly 2 MB is read whole (a PNG with zeros after its end is still one).
    for (const [extra, status] of [
      [1, 413],
      [0, 200],
    ] as const) {
      const png = await pngImage(10, 10);
      const file = Buffer.concat([png, Buffer.alloc(2 * 1024 * 1024 - png.length + extra)]);
      const upload = imageUpload(file);
      const streamed = await t.app.inject({
        method: "PUT",
        url: logoUrl,
        payload: Readable.from([upload.payload]),
        headers: {
          ...upload.headers,
          cookie: `gatehouse_session=${root.client.cookie}`,
          "x-csrf-token": root.client.csrf ?? "",
        },
      });
      expect(streamed.statusCode, streamed.payload).toBe(status);
      if (status === 413) expect(streamed.json().code).toBe("payload_too_large");
    }

    const wrongField = await put(
      t,
      root.client,
      logoUrl,
      multipartBody([
        { name: "logo", filename: "a.png", contentType: "image/png", data: await pngImage(10, 10) },
      ]),
    );
    expect(wrongField.statusCode).toBe(400);
    expect(wrongField.body.errors[0].path).toBe("file");
    const noFile = await put(t, root.client, logoUrl, multipartBody([{ name: "note", data: "hello" }]));
    expect(noFile.statusCode).toBe(400);
    expect(noFile.body.code).toBe("validation_failed");
    const twoFiles = await put(
      t,
      root.client,
      logoUrl,
      multipartBody([
        { name: "file", filename: "a.png", contentType: "image/png", data: await pngImage(10, 10) },
        { name: "file", filename: "b.png", contentType: "image/png", data: await pngImage(10, 10) },
      ]),
    );
    expect(twoFiles.statusCode).toBeLessThan(500);
    const cut = imageUpload(await pngImage(50, 50));
    const cutOff = await put(t, root.client, logoUrl, {
      ...cut,
      payload: cut.payload.subarray(0, cut.payload.length - 60),
    });
    expect(cutOff.statusCode, cutOff.payload).toBeGreaterThanOrEqual(400);
    expect(cutOff.statusCode).toBeLessThan(500);
    // JSON is not an upload (and stays JSON-only everywhere else: multipart to PATCH is 415).
    const json = await root.client.put(logoUrl, { file: "iVBORw0KGgo=" });
    expect(json.statusCode).toBe(415);
    expect(json.body.code).toBe("unsupported_media_type");
    const multipartElsewhere = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/accounts/${root.accountId}`,
      ...multipartBody([{ name: "name", data: "X" }]),
      headers: {
        ...multipartBody([]).headers,
        cookie: `gatehouse_session=${root.client.cookie}`,
        "x-csrf-token": root.client.csrf ?? "",
      },
    });
    expect(multipartElsewhere.statusCode).toBe(415);
  });

  it("needs the CSRF token with a cookie, account:update for the logo, and a person for the avatar", async () => {
    const image = imageUpload(await pngImage(20, 20));
    const noCsrf = await t.app.inject({
      method: "PUT",
      url: logoUrl,
      payload: image.payload,
      headers: { ...image.headers, cookie: `gatehouse_session=${root.client.cookie}` },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe("csrf_failed");
    const noCsrfAvatar = await t.app.inject({
      method: "PUT",
      url: "/api/v1/me/avatar",
      payload: image.payload,
      headers: { ...image.headers, cookie: `gatehouse_session=${root.client.cookie}` },
    });
    expect(noCsrfAvatar.json().code).toBe("csrf_failed");
    const anonymous = await put(t, null, logoUrl, image);
    expect(anonymous.statusCode).toBe(401);

    const monitor = await addMember(t, root, { email: "upload-monitor@example.com", roleKey: "monitor" });
    const forbidden = await put(t, monitor.client, logoUrl, image);
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.body.code).toBe("forbidden");
    expect((await monitor.client.delete(logoUrl)).statusCode).toBe(403);
    // A monitor has an avatar of their own like anyone.
    expect((await put(t, monitor.client, "/api/v1/me/avatar", image)).statusCode).toBe(200);

    const stranger = await signUpAndLogin(t, { email: "upload-stranger@example.com", account: "Elsewhere" });
    const foreign = await put(t, stranger.client, logoUrl, image);
    expect(foreign.statusCode).toBe(404);

    const key = await createApiKey(root, ["account:update"]);
    const withKey = await put(t, null, logoUrl, image, { authorization: `Bearer ${key.secret}` });
    expect(withKey.statusCode, withKey.payload).toBe(200);
    const avatarWithKey = await put(t, null, "/api/v1/me/avatar", image, {
      authorization: `Bearer ${key.secret}`,
    });
    expect(avatarWithKey.statusCode).toBe(403);
    expect(avatarWithKey.body.code).toBe("session_required");
    const readOnlyKey = await createApiKey(root, ["account:read"]);
    const refused = await put(t, null, logoUrl, image, { authorization: `Bearer ${readOnlyKey.secret}` });
    expect(refused.statusCode).toBe(403);
    expect((await createKeyClient(t.app, key.secret).delete(logoUrl)).statusCode).toBe(204);
  });

  it("replacing and deleting remove the old files, from storage too; audit and events follow", async () => {
    const filesDir = join(t.config.dataDir, "files");
    const first = await put(t, root.client, logoUrl, imageUpload(await pngImage(300, 300)));
    const second = await put(t, root.client, logoUrl, imageUpload(await webpImage(200, 100)));
    expect(second.body.logo_url).not.toBe(first.body.logo_url);
    for (const url of [first.body.logo_url, first.body.logo_thumb_url])
      expect((await fetchFile(t, url)).statusCode).toBe(404);
    expect((await fetchFile(t, second.body.logo_url)).statusCode).toBe(200);
    // Uploading the same image again changes nothing and loses nothing.
    const same = await put(t, root.client, logoUrl, imageUpload(await webpImage(200, 100)));
    expect(same.body.logo_url).toBe(second.body.logo_url);
    expect((await fetchFile(t, second.body.logo_url)).statusCode).toBe(200);

    const removed = await root.client.delete(logoUrl);
    expect(removed.statusCode).toBe(204);
    const account = await root.client.get(`/api/v1/accounts/${root.accountId}`);
    expect([account.body.logo_url, account.body.logo_thumb_url]).toEqual([null, null]);
    expect((await fetchFile(t, second.body.logo_url)).statusCode).toBe(404);
    expect((await root.client.delete(logoUrl)).statusCode).toBe(204);

    const avatar = await put(t, root.client, "/api/v1/me/avatar", imageUpload(await pngImage(90, 90)));
    expect((await root.client.delete("/api/v1/me/avatar")).statusCode).toBe(204);
    expect((await root.client.get("/api/v1/me")).body.avatar_url).toBeNull();
    expect((await fetchFile(t, avatar.body.avatar_url)).statusCode).toBe(404);

    // Only the monitor's avatar is left on disk (their account's logo and Root's avatar are gone).
    const left = readdirSync(filesDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    const rows = await t.services.db.selectFrom("stored_files").select(["key"]).execute();
    expect(left.map((e) => e.name).sort()).toEqual(rows.map((r) => r.key).sort());

    const audit = await root.client.get(
      `/api/v1/accounts/${root.accountId}/audit-events?action=account.logo_uploaded`,
    );
    expect(audit.body.data.length).toBeGreaterThan(0);
    expect(audit.body.data[0].changes.logo_key).toMatch(/^[0-9a-f]{40}\.png$/);
    const events = await t.services.db
      .selectFrom("events")
      .select(["data"])
      .where("account_id", "=", root.accountId)
      .where("type", "=", "account.updated")
      .execute();
    expect(events.some((e) => JSON.parse(e.data).changed.includes("logo_url"))).toBe(true);
  });

  it("keeps storage and the ledger in step when uploads and a removal race", async () => {
    const images = await Promise.all([
      pngImage(100, 100),
      webpImage(120, 80),
      noisyJpeg(200, 150, 70),
      pngImage(60, 90),
    ]);
    const answers = await Promise.all([
      ...images.map((image) => put(t, root.client, logoUrl, imageUpload(image))),
      root.client.delete(logoUrl),
    ]);
    for (const answer of answers) expect(answer.statusCode, answer.payload).toBeLessThan(300);
    const account = (await root.client.get(`/api/v1/accounts/${root.accountId}`)).body;
    const rows = await t.services.db
      .selectFrom("stored_files")
      .select("key")
      .where("account_id", "=", root.accountId)
      .execute();
    // Exactly the files the account points at are recorded and stored; every other one is gone.
    const current = [account.logo_url, account.logo_thumb_url].filter(Boolean).map((u: string) => fileKey(u));
    expect(rows.map((r) => r.key).sort()).toEqual([...new Set(current)].sort());
    for (const answer of answers.slice(0, images.length)) {
      for (const url of [answer.body.logo_url, answer.body.logo_thumb_url]) {
        const status = (await fetchFile(t, url)).statusCode;
        expect(status, url).toBe(current.includes(fileKey(url)) ? 200 : 404);
      }
    }
    await root.client.delete(logoUrl);
  });

  it("counts the account's files toward its storage usage, not its members' avatars", async () => {
    const billing = () => root.client.get(`/api/v1/accounts/${root.accountId}/billing`);
    expect((await billing()).body.usage.storage_bytes).toBe(0);
    const logo = await put(t, root.client, logoUrl, imageUpload(await noisyJpeg(600, 600, 90), "p.jpg"));
    const sizes = await Promise.all(
      [logo.body.logo_url, logo.body.logo_thumb_url].map(
        async (u) => (await fetchFile(t, u)).rawPayload.length,
      ),
    );
    const total = (sizes[0] ?? 0) + (sizes[1] ?? 0);
    expect((await billing()).body.usage.storage_bytes).toBe(total);
    await put(t, root.client, "/api/v1/me/avatar", imageUpload(await noisyJpeg(600, 600, 90), "me.jpg"));
    expect((await billing()).body.usage.storage_bytes).toBe(total);
    await root.client.delete(logoUrl);
    expect((await billing()).body.usage.storage_bytes).toBe(0);
  });

  it("serves only well-formed keys: unknown, malformed and traversing ones are 404 problems", async () => {
    for (const path of [
      `/files/${"0".repeat(40)}.png`,
      "/files/..%2F..%2Fsecret.key",
      "/files/%2e%2e%2fsecret.key",
      `/files/${"a".repeat(40)}.svg`,
      `/files/${"A".repeat(40)}.png`,
      "/files/secret.key",
      "/files/",
    ]) {
      const response = await t.app.inject({ method: "GET", url: path });
      expect(response.statusCode, path).toBe(404);
      expect(String(response.headers["cache-control"] ?? ""), path).not.toContain("immutable");
    }
  });

  it("answers a raw path with dot segments (as curl --path-as-is sends it) with a 404 problem, not a file", async () => {
    // Injected and browser requests resolve "../" before sending; a raw socket does not.
    const address = new URL(await t.app.listen({ port: 0, host: "127.0.0.1" }));
    const answer = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const request = httpRequest(
        { host: address.hostname, port: address.port, path: "/files/../../etc/passwd" },
        (response) => {
          let body = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            body += chunk;
          });
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              type: String(response.headers["content-type"]),
              body,
            }),
          );
        },
      );
      request.on("error", reject);
      request.end();
    });
    expect(answer.status).toBe(404);
    expect(answer.type).toContain("application/problem+json");
    expect(answer.body).not.toContain("root:");
  });
});

describe("uploads with S3-compatible storage (s3rver)", () => {
  let s3: S3Server;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3Server();
    t = await createTestApp(testDialects()[0] ?? "sqlite", { STORAGE_URL: s3.storageUrl("gatehouse") });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
  });

  it("uploads, serves from the bucket, replaces and deletes", async () => {
    expect(t.services.storage.kind).toBe("s3");
    const root = await signUpAndLogin(t, { email: "s3-root@example.com", account: "Bucket Co" });
    const url = `/api/v1/accounts/${root.accountId}/logo`;
    const uploaded = await put(
      t,
      root.client,
      url,
      imageUpload(await pngImage(700, 700, { transparent: true })),
    );
    expect(uploaded.statusCode, uploaded.payload).toBe(200);
    const key = fileKey(uploaded.body.logo_url);
    // The object is in the bucket under the prefix, and nothing went to the data folder.
    expect(await t.services.storage.size(key)).toBeGreaterThan(0);
    expect(readdirSync(t.config.dataDir)).not.toContain("files");
    const served = await fetchFile(t, uploaded.body.logo_url);
    expect(served.statusCode).toBe(200);
    expect(served.headers["content-type"]).toBe("image/png");
    expect(served.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await sharp(served.rawPayload).metadata()).width).toBe(512);

    const replaced = await put(t, root.client, url, imageUpload(await pngImage(64, 64)));
    expect((await fetchFile(t, uploaded.body.logo_url)).statusCode).toBe(404);
    expect((await fetchFile(t, replaced.body.logo_url)).statusCode).toBe(200);
    expect((await root.client.delete(url)).statusCode).toBe(204);
    expect((await fetchFile(t, replaced.body.logo_url)).statusCode).toBe(404);
    expect(await t.services.storage.size(fileKey(replaced.body.logo_url))).toBeUndefined();
  });
});
