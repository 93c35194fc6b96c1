import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, type TestApp, testDialects } from "../testing/harness.js";
import { createAdapterFactory, OIDC_PURGE_JOB } from "./oidc.adapter.js";

describe.each(testDialects())("oidc-provider storage on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("stores, finds by id, uid and user code, consumes, revokes by grant; the purge job deletes expired rows", async () => {
    const adapterFor = createAdapterFactory({ db: t.services.db, clients: t.services.oidcClients });
    const codes = adapterFor("AuthorizationCode");
    const tokens = adapterFor("RefreshToken");
    const sessions = adapterFor("Session");
    await codes.upsert("code-1", { grantId: "g1", scope: "openid" }, 60);
    await tokens.upsert("rt-1", { grantId: "g1" }, 3600);
    await tokens.upsert("rt-2", { grantId: "g2" }, 3600);
    await sessions.upsert("s-1", { uid: "uid-1", userCode: "ABCD" }, 3600);

    expect(await codes.find("code-1")).toMatchObject({ grantId: "g1", scope: "openid" });
    // Kinds are separate: the same id under another model is another row.
    expect(await tokens.find("code-1")).toBeUndefined();
    expect(await sessions.findByUid("uid-1")).toMatchObject({ uid: "uid-1" });
    expect(await sessions.findByUserCode("ABCD")).toMatchObject({ userCode: "ABCD" });

    await codes.consume("code-1");
    const consumed = await codes.find("code-1");
    expect(typeof consumed?.consumed).toBe("number");

    await tokens.revokeByGrantId("g1");
    expect(await codes.find("code-1")).toBeUndefined();
    expect(await tokens.find("rt-1")).toBeUndefined();
    expect(await tokens.find("rt-2")).toBeDefined();

    await tokens.destroy("rt-2");
    expect(await tokens.find("rt-2")).toBeUndefined();

    // Expired rows are never returned, and the purge job deletes them.
    await t.services.db
      .updateTable("oidc_payloads")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", "s-1")
      .execute();
    expect(await sessions.find("s-1")).toBeUndefined();
    const outcome = await t.services.jobs.runNow([OIDC_PURGE_JOB]);
    expect(JSON.stringify(outcome[OIDC_PURGE_JOB])).toContain('"deleted":1');
    const left = await t.services.db
      .selectFrom("oidc_payloads")
      .select("id")
      .where("id", "=", "s-1")
      .execute();
    expect(left).toEqual([]);
  });
});
