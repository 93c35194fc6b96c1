import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, testDialects } from "../testing/harness.js";
import { runOidcCommand } from "./oidc-clients-cli.js";

/** `gatehouse oidc clients …` as the operator runs it. */
describe.each(testDialects())("gatehouse oidc clients on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  const run = async (...args: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runOidcCommand(args, t.services, {
      log: (line) => out.push(line),
      error: (line) => err.push(line),
    });
    return { code, out: out.join("\n"), err: err.join("\n") };
  };
  const auditActions = async (clientId: string) =>
    (
      await t.services.db
        .selectFrom("audit_events")
        .select("action")
        .where("target_id", "=", clientId)
        .orderBy("seq")
        .execute()
    ).map((e) => e.action);

  it("adds a client with its secret shown once, lists it without secrets, rotates and removes it, audited", async () => {
    const added = await run(
      "clients",
      "add",
      "--name",
      "Notes",
      "--redirect-uri",
      "https://notes.example/callback",
      "--backchannel-logout-uri",
      "https://notes.example/backchannel-logout",
      "--json",
    );
    expect(added.code, added.err).toBe(0);
    const body = JSON.parse(added.out) as { client_id: string; client_secret: string; party: string };
    expect(body.party).toBe("first");
    expect(body.client_secret).toMatch(/^.{32,}$/);
    // Stored sealed, never as given.
    const row = await t.services.db
      .selectFrom("oidc_clients")
      .select("secret_sealed")
      .where("client_id", "=", body.client_id)
      .executeTakeFirstOrThrow();
    expect(row.secret_sealed).not.toContain(body.client_secret);

    const listed = await run("clients", "list");
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(body.client_id);
    expect(listed.out).not.toContain(body.client_secret);

    const rotated = await run("clients", "rotate-secret", body.client_id);
    expect(rotated.code).toBe(0);
    const fresh = /: (\S+)$/.exec(rotated.out)?.[1];
    expect(fresh).toBeTruthy();
    expect(fresh).not.toBe(body.client_secret);

    expect((await run("clients", "remove", body.client_id)).code).toBe(0);
    const again = await run("clients", "remove", body.client_id);
    expect(again.code).toBe(1);
    expect(await auditActions(body.client_id)).toEqual([
      "oidc.client_added",
      "oidc.client_secret_rotated",
      "oidc.client_removed",
    ]);
  });

  it("adds a public client without a secret, and refuses bad input with usage (exit 2) and no client", async () => {
    const pub = await run(
      "clients",
      "add",
      "--name",
      "SPA",
      "--public",
      "--redirect-uri",
      "http://localhost:5173/cb",
    );
    expect(pub.code, pub.err).toBe(0);
    expect(pub.out).toContain("Public client: no secret");

    const before = (await t.services.oidcClients.list(t.services.db)).length;
    for (const args of [
      ["clients", "add", "--name", "X"],
      ["clients", "add", "--name", "X", "--redirect-uri", "javascript:alert(1)"],
      ["clients", "add", "--name", "X", "--redirect-uri", "https://x.example/cb#frag"],
      ["clients", "add", "--name", "X", "--redirect-uri", "https://x.example/cb", "--party", "fourth"],
      ["clients", "add", "--name", "X", "--redirect-uri", "https://x.example/cb", "--grant-type", "password"],
      [
        "clients",
        "add",
        "--name",
        "X",
        "--redirect-uri",
        "https://x.example/cb",
        "--public",
        "--grant-type",
        "client_credentials",
      ],
      ["clients", "add", "--name", "X", "--redirect-uri", "https://x.example/cb", "--no-such-flag"],
      ["clients", "remove"],
      ["keys", "list"],
    ]) {
      const result = await run(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.err).toContain("Usage: gatehouse oidc clients");
    }
    expect(await t.services.oidcClients.list(t.services.db)).toHaveLength(before);
    expect((await run("clients", "rotate-secret", "no-such-client")).code).toBe(1);
  });

  it("rotates the signing key at once: the server publishes the new key first and the old one too, audited", async () => {
    const jwks = async () =>
      ((await t.app.inject({ method: "GET", url: "/oidc/jwks" })).json().keys as Array<{ kid: string }>).map(
        (k) => k.kid,
      );
    const [before] = await jwks();
    const rotated = await run("keys", "rotate");
    expect(rotated.code, rotated.err).toBe(0);
    const kid = /New signing key (\S+);/.exec(rotated.out)?.[1];
    expect(kid).toBeTruthy();
    expect(rotated.out).toContain("stays published 120 minutes");
    expect(await jwks()).toEqual([kid, before]);
    expect(await auditActions(kid as string)).toEqual(["oidc.signing_key_rotated"]);
    for (const args of [["keys"], ["keys", "rotate", "now"]]) {
      const result = await run(...args);
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.err).toContain("gatehouse oidc keys rotate");
    }
    expect(await jwks()).toEqual([kid, before]);
  });
});
