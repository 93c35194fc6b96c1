import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, testDialects } from "../testing/harness.js";
import { applyClientsFile, ClientsFileError } from "./oidc.clients-file.js";

const SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret-0";
const dir = mkdtempSync(join(tmpdir(), "gatehouse-oidc-clients-"));
let files = 0;
const file = (content: unknown) => {
  const path = join(dir, `clients-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
};
const notes = {
  client_id: "notes",
  name: "Notes",
  client_secret: SECRET,
  redirect_uris: ["https://notes.example/callback"],
  backchannel_logout_uri: "https://notes.example/backchannel-logout",
};

describe.each(testDialects())("OIDC_CLIENTS on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect, { OIDC_CLIENTS: file({ clients: [notes] }) });
  });
  afterAll(() => t?.close());

  const apply = (path: string) =>
    applyClientsFile(t.services.db, { secretKey: t.config.secretKey, now: t.services.clock.now() }, path);

  it("creates the file's clients at start-up, updates them, removes the ones it no longer lists, never a CLI one", async () => {
    const started = await t.services.oidcClients.find(t.services.db, "notes");
    expect(started).toMatchObject({ name: "Notes", party: "first", confidential: true, source: "file" });
    const cli = await t.services.oidcClients.add(t.services.db, {
      name: "By hand",
      confidential: true,
      party: "third",
      redirectUris: ["https://hand.example/cb"],
    });

    const spa = {
      client_id: "spa",
      name: "SPA",
      public: true,
      party: "third",
      redirect_uris: ["http://localhost:5173/cb"],
    };
    expect(await apply(file({ clients: [{ ...notes, name: "Notes 2" }, spa] }))).toEqual({
      added: ["spa"],
      updated: ["notes"],
      removed: [],
    });
    expect((await t.services.oidcClients.find(t.services.db, "notes"))?.name).toBe("Notes 2");
    expect((await t.services.oidcClients.find(t.services.db, "spa"))?.confidential).toBe(false);

    expect(await apply(file({ clients: [spa] }))).toEqual({
      added: [],
      updated: ["spa"],
      removed: ["notes"],
    });
    expect(await t.services.oidcClients.find(t.services.db, "notes")).toBeUndefined();
    expect(await t.services.oidcClients.find(t.services.db, cli.client.clientId)).toBeDefined();
    const audited = await t.services.db
      .selectFrom("audit_events")
      .select(["action", "target_id"])
      .where("action", "like", "oidc.client_%")
      .where("target_id", "in", ["notes", "spa"])
      .orderBy("seq")
      .execute();
    expect(audited.map((e) => `${e.action} ${e.target_id}`)).toEqual([
      "oidc.client_added notes",
      "oidc.client_added spa",
      "oidc.client_removed notes",
    ]);

    // A file entry may not take over a client registered with the CLI.
    await expect(apply(file({ clients: [{ ...notes, client_id: cli.client.clientId }] }))).rejects.toThrow(
      /registered with the CLI/,
    );
  });

  it("refuses a bad file with its reason and changes nothing", async () => {
    const before = await t.services.oidcClients.list(t.services.db);
    for (const [content, reason] of [
      ["{not json", /not JSON/],
      [{ clients: "no" }, /expected/],
      [{ clients: [{ ...notes, client_secret: "short" }] }, /client_secret/],
      [{ clients: [{ ...notes, redirect_uris: ["javascript:alert(1)"] }] }, /http\(s\)/],
      [{ clients: [{ ...notes, grant_types: ["password"] }] }, /not supported/],
      [{ clients: [notes, notes] }, /listed twice/],
      [{ clients: [{ ...notes, client_id: "<script>" }] }, /client_id/],
    ] as const) {
      await expect(apply(file(content))).rejects.toThrow(ClientsFileError);
      await expect(apply(file(content))).rejects.toThrow(reason);
    }
    await expect(apply(join(dir, "missing.json"))).rejects.toThrow(/cannot be read/);
    expect(await t.services.oidcClients.list(t.services.db)).toEqual(before);
  });
});
