import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, signUpAndLogin, type TestApp, testDialects } from "../testing/harness.js";

describe.each(testDialects())("the audit and invoices list preferences on %s", (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it("keeps a default audit filter and a default invoices filter, partial input completed", async () => {
    const { client } = await signUpAndLogin(t, { email: "list-prefs@example.com" });
    const defaults = (await client.get("/api/v1/me/preferences")).body;
    expect(defaults.default_audit_filter).toEqual({ category: "all", range: "all_time" });
    expect(defaults.default_invoices_filter).toEqual({ status: "all" });

    const put = await client.put("/api/v1/me/preferences", {
      default_audit_filter: { category: "security" },
      default_invoices_filter: { status: "failed" },
    });
    expect(put.statusCode).toBe(200);
    expect(put.body.default_audit_filter).toEqual({ category: "security", range: "all_time" });
    expect(put.body.default_invoices_filter).toEqual({ status: "failed" });
    // Other preferences keep their defaults.
    expect(put.body.default_list_filters).toEqual({ status: "all", page_size: 50 });

    const ranged = await client.put("/api/v1/me/preferences", {
      ...put.body,
      default_audit_filter: { range: "last_7_days" },
    });
    expect(ranged.body.default_audit_filter).toEqual({ category: "all", range: "last_7_days" });
    expect(ranged.body.default_invoices_filter).toEqual({ status: "failed" });
    expect((await client.get("/api/v1/me/preferences")).body).toEqual(ranged.body);

    for (const bad of [
      { default_audit_filter: { category: "everything" } },
      { default_audit_filter: { category: "member.*" } },
      { default_audit_filter: { range: "forever" } },
      { default_audit_filter: { category: "all", regex: ".*" } },
      { default_audit_filter: "security" },
      { default_invoices_filter: { status: "draft" } },
      { default_invoices_filter: { status: "PAID" } },
      { default_invoices_filter: { status: "paid", from: "2026-01-01" } },
    ]) {
      const r = await client.put("/api/v1/me/preferences", bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.body.code).toBe("validation_failed");
    }
    expect((await client.get("/api/v1/me/preferences")).body).toEqual(ranged.body);
  });
});
