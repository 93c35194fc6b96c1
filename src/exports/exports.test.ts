import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  addMember,
  type Client,
  createApiKey,
  createKeyClient,
  createTestApp,
  onPaidPlan,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { pdfText } from "../testing/pdf-text.js";
import { seedMembers } from "../testing/seed.js";
import { EXPORT_FILES_PURGE_JOB, EXPORT_SCHEDULES_JOB, EXPORTS_JOB } from "./export-runner.js";
import { csvRecords, jsonLines, parseCsv, unzip } from "./export-testing.js";

type Person = { client: Client; accountId: string; userId: string; email: string };

const BATCH = 5;
const FORMULA_NAME = `=HYPERLINK("http://evil.example","click")`;
const TRICKY_NAME = `O'Brien, "Bob"\nsecond line`;

describe.each(testDialects())("exports on %s", (dialect) => {
  let t: TestApp;
  let owner: Person;
  let admin: Person;
  let monitor: Person;
  let other: Person;
  let memberCount = 0;
  let formulaTeamId = "";
  let otherTeamId = "";

  const base = () => `/api/v1/accounts/${owner.accountId}`;
  const runExports = () => t.services.jobs.runNow([EXPORTS_JOB]);

  async function requestExport(as: Client, body: Record<string, unknown>, accountId = owner.accountId) {
    const answer = await as.post(`/api/v1/accounts/${accountId}/exports`, body);
    expect(answer.statusCode, answer.payload).toBe(202);
    expect(answer.body).toEqual({ id: expect.stringMatching(/^exp_/), status: "queued" });
    return answer.body.id as string;
  }

  async function download(url: string) {
    const parsed = new URL(url);
    return t.app.inject({ method: "GET", url: `${parsed.pathname}${parsed.search}` });
  }

  /** Requests, runs the job, and returns the finished export and its file. */
  async function exported(body: Record<string, unknown>, as: Client = owner.client) {
    const id = await requestExport(as, body);
    await runExports();
    const shown = await as.get(`${base()}/exports/${id}`);
    expect(shown.statusCode, shown.payload).toBe(200);
    expect(shown.body.status, shown.payload).toBe("succeeded");
    const file = await download(shown.body.download_url);
    expect(file.statusCode, file.payload).toBe(200);
    return { id, view: shown.body, file: file.rawPayload, response: file };
  }

  beforeAll(async () => {
    t = await createTestApp(dialect, {}, { exports: { batchSize: BATCH } });
    const o = await signUpAndLogin(t, { email: "exp-owner@example.com", account: "Export Co" });
    owner = { ...o, email: "exp-owner@example.com" };
    await onPaidPlan(t, owner.accountId, { plan: "team", seatLimit: 1000 });
    // The requester reads times in Berlin (UTC+01:00 in winter).
    expect((await owner.client.patch("/api/v1/me", { timezone: "Europe/Berlin" })).statusCode).toBe(200);
    const a = await addMember(t, owner, {
      email: "exp-admin@example.com",
      roleKey: "admin",
      firstName: "Adam",
    });
    admin = { ...a, accountId: owner.accountId, email: "exp-admin@example.com" };
    const m = await addMember(t, owner, { email: "exp-monitor@example.com", roleKey: "monitor" });
    monitor = { ...m, accountId: owner.accountId, email: "exp-monitor@example.com" };
    await seedMembers(t.services.db, owner.accountId, 23, { prefix: "exp" });
    // Several members joined at the same instant: the keyset must not lose or repeat one at a batch edge.
    await t.services.db
      .updateTable("memberships")
      .set({ created_at: "2026-01-01T00:00:00.000Z" })
      .where("account_id", "=", owner.accountId)
      .where("user_id", "in", [
        "usr_exp00000000000000001",
        "usr_exp00000000000000002",
        "usr_exp00000000000000003",
        "usr_exp00000000000000004",
        "usr_exp00000000000000005",
        "usr_exp00000000000000006",
        "usr_exp00000000000000007",
      ])
      .execute();
    // Names that a spreadsheet would run, or that need quoting.
    await t.services.db
      .updateTable("users")
      .set({ first_name: FORMULA_NAME })
      .where("id", "=", "usr_exp00000000000000010")
      .execute();
    await t.services.db
      .updateTable("users")
      .set({ last_name: TRICKY_NAME })
      .where("id", "=", "usr_exp00000000000000011")
      .execute();
    memberCount = 3 + 23;
    const team = await owner.client.post(`${base()}/teams`, { name: "@SUM(1+1)*cmd", description: "-2+3" });
    expect(team.statusCode, team.payload).toBe(201);
    formulaTeamId = team.body.id;
    const roles = await owner.client.get(`${base()}/roles`);
    const monitorRole = roles.body.data.find((r: { key: string }) => r.key === "monitor");
    const invited = await owner.client.post(`${base()}/invitations`, {
      emails: ["exp-pending@example.com"],
      role_id: monitorRole.id,
    });
    expect(invited.statusCode, invited.payload).toBe(201);
    await t.services.db
      .insertInto("invoices")
      .values({
        id: "in_exportTestA000000000000",
        account_id: owner.accountId,
        number: "EXPA-0001",
        status: "paid",
        period_start: "2026-11-01T00:00:00.000Z",
        period_end: "2026-12-01T00:00:00.000Z",
        subtotal: 12345,
        total: 12345,
        currency: "USD",
        payment_attempts: 1,
        next_payment_at: null,
        last_payment_error: null,
        paid_at: "2026-11-01T00:00:05.000Z",
        voided_at: null,
        bill_to: null,
        created_at: "2026-11-01T00:00:01.000Z",
      })
      .execute();

    // Another account, with rows of every type that must never show up in the first one's exports.
    const b = await signUpAndLogin(t, { email: "exp-other@example.com", account: "Other Co" });
    other = { ...b, email: "exp-other@example.com" };
    const otherTeam = await other.client.post(`/api/v1/accounts/${other.accountId}/teams`, {
      name: "Other Team",
    });
    otherTeamId = otherTeam.body.id;
    await other.client.post(`/api/v1/accounts/${other.accountId}/roles`, {
      name: "Other Role",
      permissions: ["members:read"],
    });
    await t.services.db
      .insertInto("invoices")
      .values({
        id: "in_exportTestB000000000000",
        account_id: other.accountId,
        number: "EXPB-0001",
        status: "open",
        period_start: "2026-11-01T00:00:00.000Z",
        period_end: "2026-12-01T00:00:00.000Z",
        subtotal: 999,
        total: 999,
        currency: "USD",
        payment_attempts: 0,
        next_payment_at: null,
        last_payment_error: null,
        paid_at: null,
        voided_at: null,
        bill_to: null,
        created_at: "2026-11-01T00:00:01.000Z",
      })
      .execute();
    const otherRoles = await other.client.get(`/api/v1/accounts/${other.accountId}/roles`);
    await other.client.post(`/api/v1/accounts/${other.accountId}/invitations`, {
      emails: ["exp-other-pending@example.com"],
      role_id: otherRoles.body.data.find((r: { key: string }) => r.key === "monitor").id,
    });
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it("exports members as CSV (RFC 4180, formulas neutralised, the requester's time zone), JSON Lines and PDF", async () => {
    const csv = await exported({ type: "members", format: "csv" });
    expect(csv.response.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.response.headers["content-disposition"]).toMatch(
      /attachment; filename="export-members-.*\.csv"/,
    );
    const text = csv.file.toString("utf8");
    // Every record ends with CRLF.
    expect(text.endsWith("\r\n")).toBe(true);
    const rows = csvRecords(text);
    expect(rows).toHaveLength(memberCount);
    expect(new Set(rows.map((r) => r.user_id)).size).toBe(memberCount);
    const emails = rows.map((r) => r.email);
    expect(emails).toEqual(
      expect.arrayContaining([owner.email, admin.email, monitor.email, "member22@exp.example"]),
    );
    expect(emails).not.toContain(other.email);
    // Formula injection: the cell is text (a leading apostrophe), the rest kept as it was.
    const formula = rows.find((r) => r.user_id === "usr_exp00000000000000010");
    expect(formula?.first_name).toBe(`'${FORMULA_NAME}`);
    expect(rows.find((r) => r.user_id === "usr_exp00000000000000011")?.last_name).toBe(TRICKY_NAME);
    // Times in Europe/Berlin with the offset written out.
    expect(rows.find((r) => r.user_id === "usr_exp00000000000000000")?.joined_at).toBe(
      "2026-01-01T01:00:00+01:00",
    );
    expect(csv.view).toMatchObject({ rows: memberCount, total_rows: memberCount, progress: 100 });

    const json = await exported({ type: "members", format: "json" });
    const lines = jsonLines(json.file.toString("utf8"));
    expect(lines).toHaveLength(memberCount);
    const first = lines.find((l) => l.user_id === "usr_exp00000000000000000");
    // ISO 8601 UTC in JSON, lists as lists.
    expect(first).toMatchObject({ joined_at: "2026-01-01T00:00:00.000Z", teams: [] });
    expect(lines.find((l) => l.user_id === "usr_exp00000000000000010")?.first_name).toBe(FORMULA_NAME);

    const pdf = await exported({ type: "members", format: "pdf", filters: { status: "suspended" } });
    expect(pdf.file.subarray(0, 5).toString()).toBe("%PDF-");
    const shown = pdfText(pdf.file);
    expect(shown).toContain("Members export");
    expect(shown).toContain("Export Co");
    expect(shown).toContain("status: suspended");
    expect(shown).toMatch(/Generated: \d{4}-\d\d-\d\d \d\d:\d\d \+01:00 \(Europe\/Berlin\)/);
    // Only the suspended members (every 20th seeded one: 0 and 20).
    expect(shown).toContain("member0@exp.example");
    expect(shown).toContain("member20@exp.example");
    expect(shown).not.toContain("member1@exp.example");
    expect(pdf.view.rows).toBe(2);
  });

  it("exports every other type in every format with only this account's rows", async () => {
    const expectations: Record<string, { has: (rows: Array<Record<string, unknown>>) => void }> = {
      teams: {
        has: (rows) => {
          expect(rows.map((r) => r.id)).toEqual([formulaTeamId]);
          expect(rows.map((r) => r.id)).not.toContain(otherTeamId);
        },
      },
      roles: {
        has: (rows) => {
          expect(rows.map((r) => r.key).sort()).toEqual(["admin", "billing", "developer", "monitor", "root"]);
        },
      },
      invitations: {
        has: (rows) => {
          const emails = rows.map((r) => r.email);
          expect(emails).toContain("exp-pending@example.com");
          expect(emails).not.toContain("exp-other-pending@example.com");
        },
      },
      audit_log: {
        has: (rows) => {
          expect(rows.length).toBeGreaterThan(3);
          expect(rows.map((r) => r.action)).toContain("team.created");
          expect(rows.map((r) => r.target_id)).not.toContain(otherTeamId);
          // The invitation's email is kept out of the hashed fields, and the export puts it back.
          const invited = rows.filter((r) => r.action === "invitation.created");
          expect(JSON.stringify(invited.map((r) => r.changes))).toContain("exp-pending@example.com");
        },
      },
      invoices: {
        has: (rows) => {
          const numbers = rows.map((r) => String(r.number));
          expect(numbers).toContain("EXPA-0001");
          // Seats billed when members joined are this account's invoices too; the other account's are not.
          for (const number of numbers) expect(number).toMatch(/^(EXPA|EXPORT-CO)-/);
        },
      },
      sessions: {
        has: (rows) => {
          const emails = rows.map((r) => r.email);
          expect(emails).toContain(owner.email);
          expect(emails).not.toContain(other.email);
        },
      },
    };
    for (const [type, check] of Object.entries(expectations)) {
      const csv = await exported({ type, format: "csv" });
      const csvRows = csvRecords(csv.file.toString("utf8"));
      check.has(csvRows);
      const json = await exported({ type, format: "json" });
      const jsonRows = jsonLines(json.file.toString("utf8"));
      check.has(jsonRows);
      // The audit log grows between the two (the first download is audited).
      if (type !== "audit_log") expect(jsonRows).toHaveLength(csvRows.length);
      const pdf = await exported({ type, format: "pdf" });
      expect(pdfText(pdf.file), type).toContain("export");
    }
    // Values as written: formula-looking text neutralised in CSV, money in units in CSV and cents in JSON.
    const team = csvRecords((await exported({ type: "teams", format: "csv" })).file.toString("utf8"))[0];
    expect(team).toMatchObject({ name: "'@SUM(1+1)*cmd", description: "'-2+3" });
    const invoiceCsv = csvRecords(
      (await exported({ type: "invoices", format: "csv" })).file.toString("utf8"),
    ).find((r) => r.number === "EXPA-0001");
    expect(invoiceCsv).toMatchObject({ total: "123.45", issued_at: "2026-11-01T01:00:01+01:00" });
    const invoiceJson = jsonLines(
      (await exported({ type: "invoices", format: "json" })).file.toString("utf8"),
    ).find((r) => r.number === "EXPA-0001");
    expect(invoiceJson).toMatchObject({ total: 12345, issued_at: "2026-11-01T00:00:01.000Z" });
    const invoicePdf = pdfText((await exported({ type: "invoices", format: "pdf" })).file);
    expect(invoicePdf).toContain("EXPA-0001");
    expect(invoicePdf).toContain("123.45");
    expect(invoicePdf).not.toContain("EXPB-0001");
  });

  it("exports all data as a ZIP of one file per type and a manifest", async () => {
    for (const format of ["csv", "json"] as const) {
      const all = await exported({ type: "all", format });
      expect(all.response.headers["content-type"]).toBe("application/zip");
      const files = await unzip(all.file);
      const extension = format === "csv" ? "csv" : "jsonl";
      const types = ["members", "teams", "roles", "invitations", "audit_log", "invoices", "sessions"];
      expect([...files.keys()].sort()).toEqual(
        [...types.map((type) => `${type}.${extension}`), "manifest.json"].sort(),
      );
      const manifest = JSON.parse(files.get("manifest.json")?.toString("utf8") ?? "{}");
      expect(manifest).toMatchObject({ account_id: owner.accountId, format });
      for (const entry of manifest.files as Array<{ type: string; file: string; rows: number }>) {
        const body = files.get(entry.file)?.toString("utf8") ?? "";
        const rows = format === "csv" ? parseCsv(body).length - 1 : jsonLines(body).length;
        expect(rows, entry.file).toBe(entry.rows);
      }
      expect(manifest.files.find((f: { type: string }) => f.type === "members").rows).toBe(memberCount);
      expect(all.view.rows).toBe(
        manifest.files.reduce((sum: number, f: { rows: number }) => sum + f.rows, 0),
      );
    }
  });

  it("reads the rows batch by batch (keyset), reports progress, and filters by date range", async () => {
    const id = await requestExport(owner.client, { type: "members", format: "csv" });
    const queued = await owner.client.get(`${base()}/exports/${id}`);
    expect(queued.body).toMatchObject({ status: "queued", progress: 0, rows: 0, download_url: null });
    const outcome = await runExports();
    // 26 members at 5 a batch: 6 reads, never one big read.
    expect(outcome[EXPORTS_JOB]).toMatchObject({ status: "ok", result: { succeeded: 1, batches: 6 } });
    const done = await owner.client.get(`${base()}/exports/${id}`);
    expect(done.body).toMatchObject({
      status: "succeeded",
      progress: 100,
      rows: memberCount,
      total_rows: memberCount,
    });
    expect(done.body.expires_at).toBeTruthy();

    const ranged = await exported({
      type: "members",
      format: "json",
      from: "2026-01-01T00:00:00.000Z",
      to: "2026-01-01T00:10:00.000Z",
    });
    const ids = jsonLines(ranged.file.toString("utf8")).map((r) => r.user_id);
    expect(ids.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `usr_exp${String(i).padStart(17, "0")}`));

    const list = await owner.client.get(`${base()}/exports?limit=2`);
    expect(list.statusCode).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect(list.body.data[0].id).toBe(ranged.id);
    expect(list.body.data[1].id).toBe(id);
    const next = await owner.client.get(`${base()}/exports?limit=2&cursor=${list.body.next_cursor}`);
    expect(next.body.data).toHaveLength(2);
    expect(next.body.data.map((e: { id: string }) => e.id)).not.toContain(id);
    expect(next.body.data[0].created_at <= list.body.data[1].created_at).toBe(true);
  });

  it("serves the file only through an untampered, unexpired link of someone holding data:export; audits downloads", async () => {
    const { view } = await exported({ type: "roles", format: "json" });
    const url = new URL(view.download_url);
    expect(url.pathname).toBe(`/api/v1/export-files/${view.id}`);
    expect(url.searchParams.get("user")).toBe(owner.userId);
    const tamper = (key: string, value: string) => {
      const copy = new URL(url);
      copy.searchParams.set(key, value);
      return download(copy.toString());
    };
    const signature = url.searchParams.get("signature") as string;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
    for (const bad of [
      await tamper("signature", flipped),
      await tamper("user", admin.userId),
      await tamper("expires", String(Number(url.searchParams.get("expires")) + 3600)),
    ]) {
      expect(bad.statusCode, bad.payload).toBe(403);
      expect(bad.headers["content-type"]).toMatch(/problem\+json/);
    }
    const missing = await download(view.download_url.replace(view.id, "exp_doesnotexist00000000"));
    expect(missing.statusCode).toBe(403);
    expect((await download(view.download_url)).statusCode).toBe(200);
    const audit = await owner.client.get(
      `${base()}/audit-events?action=export.downloaded&target_id=${view.id}`,
    );
    expect(audit.body.data.length).toBeGreaterThanOrEqual(1);
    expect(audit.body.data[0]).toMatchObject({
      target: { id: view.id, type: "export" },
      actor: { id: owner.userId, type: "user" },
    });

    // The account's IP allowlist binds downloads too.
    const security = `${base()}/security`;
    expect((await owner.client.patch(security, { ip_allowlist: ["127.0.0.1"] })).statusCode).toBe(200);
    try {
      const outside = await t.app.inject({
        method: "GET",
        url: `${url.pathname}${url.search}`,
        remoteAddress: "203.0.113.9",
      });
      expect(outside.statusCode).toBe(403);
      expect(outside.json().code).toBe("ip_not_allowed");
      expect((await download(view.download_url)).statusCode).toBe(200);
    } finally {
      expect((await owner.client.patch(security, { ip_allowlist: [] })).statusCode).toBe(200);
    }

    // 24 hours later the link is refused; the file is still there for a fresh link.
    t.services.clock.advance(24 * 3600 + 60);
    try {
      const expired = await download(view.download_url);
      expect(expired.statusCode).toBe(403);
      expect(expired.json().detail).toMatch(/expired/);
    } finally {
      t.services.clock.reset();
    }
  });

  it("deletes files after export_files_days (default 7) and shows no link for them", async () => {
    const { id, view } = await exported({ type: "teams", format: "csv" });
    const key = (
      await t.services.db.selectFrom("exports").select("file_key").where("id", "=", id).executeTakeFirst()
    )?.file_key as string;
    expect(await t.services.storage.size(key)).toBeGreaterThan(0);
    t.services.clock.advance(6 * 86_400);
    try {
      await t.services.jobs.runNow([EXPORT_FILES_PURGE_JOB]);
      expect(await t.services.storage.size(key)).toBeGreaterThan(0);
      t.services.clock.advance(86_400 + 60);
      const purged = await t.services.jobs.runNow([EXPORT_FILES_PURGE_JOB]);
      expect(purged[EXPORT_FILES_PURGE_JOB]).toMatchObject({ status: "ok" });
      expect(await t.services.storage.size(key)).toBeUndefined();
      const row = await t.services.db
        .selectFrom("exports")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirst();
      expect(row).toMatchObject({ file_key: null, status: "succeeded" });
      const ledger = await t.services.db
        .selectFrom("stored_files")
        .select("key")
        .where("key", "=", key)
        .execute();
      expect(ledger).toEqual([]);
    } finally {
      t.services.clock.reset();
    }
    // A link made before the purge finds no file now.
    expect((await download(view.download_url)).statusCode).toBe(404);
    const shown = await owner.client.get(`${base()}/exports/${id}`);
    expect(shown.body.download_url).toBeNull();
  });

  it("needs data:export: a member without it gets 403, another account 404, keys by their scope", async () => {
    const id = await requestExport(owner.client, { type: "teams", format: "json" });
    for (const answer of [
      await monitor.client.post(`${base()}/exports`, { type: "members", format: "csv" }),
      await monitor.client.get(`${base()}/exports`),
      await monitor.client.get(`${base()}/exports/${id}`),
      await monitor.client.get(`${base()}/export-schedules`),
      await monitor.client.post(`${base()}/export-schedules`, {
        type: "members",
        format: "csv",
        frequency: "daily",
        recipients: [monitor.userId],
      }),
    ]) {
      expect(answer.statusCode, answer.payload).toBe(403);
      expect(answer.body.code).toBe("forbidden");
    }
    // Tenant isolation: another account's member sees nothing of this account's exports.
    expect((await other.client.get(`${base()}/exports`)).statusCode).toBe(404);
    expect((await other.client.get(`${base()}/exports/${id}`)).statusCode).toBe(404);
    expect((await other.client.get(`/api/v1/accounts/${other.accountId}/exports/${id}`)).statusCode).toBe(
      404,
    );
    const theirs = await other.client.get(`/api/v1/accounts/${other.accountId}/exports`);
    expect(theirs.body.data).toEqual([]);

    const withScope = await createApiKey({ client: owner.client, accountId: owner.accountId }, [
      "data:export",
    ]);
    const keyClient = createKeyClient(t.app, withScope.secret);
    const byKey = await keyClient.post(`${base()}/exports`, { type: "roles", format: "csv" });
    expect(byKey.statusCode, byKey.payload).toBe(202);
    await runExports();
    const shown = await keyClient.get(`${base()}/exports/${byKey.body.id}`);
    expect(shown.body).toMatchObject({ status: "succeeded", requested_by: owner.userId });
    const withoutScope = await createApiKey({ client: owner.client, accountId: owner.accountId }, [
      "members:read",
    ]);
    const refused = await createKeyClient(t.app, withoutScope.secret).post(`${base()}/exports`, {
      type: "roles",
      format: "csv",
    });
    expect(refused.statusCode).toBe(403);
    const requested = await owner.client.get(
      `${base()}/audit-events?action=export.requested&target_id=${byKey.body.id}`,
    );
    expect(requested.body.data[0]).toMatchObject({ actor: expect.objectContaining({ type: "api_key" }) });
  });

  it("refuses bad input with problem+json naming the field, never a 500", async () => {
    const cases: Array<[unknown, string]> = [
      [{ type: "users", format: "csv" }, "type"],
      [{ type: "members", format: "xlsx" }, "format"],
      [{ type: "all", format: "pdf" }, "format"],
      [{ type: "members", format: "csv", filters: { colour: "red" } }, "filters.colour"],
      [{ type: "members", format: "csv", filters: { status: "happy" } }, "filters.status"],
      [
        { type: "members", format: "csv", filters: { role_id: "'; drop table users; --" } },
        "filters.role_id",
      ],
      [{ type: "all", format: "csv", filters: { status: "active" } }, "filters"],
      [{ type: "members", format: "csv", from: "yesterday" }, "from"],
      [{ type: "members", format: "csv", from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "to"],
      [{ type: "roles", format: "csv", filters: { q: "x" } }, "filters.q"],
    ];
    for (const [body, path] of cases) {
      const answer = await owner.client.post(`${base()}/exports`, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      expect(answer.headers["content-type"]).toMatch(/application\/problem\+json/);
      expect(
        answer.body.errors.map((e: { path: string }) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    for (const body of [
      { type: 5, format: "csv" },
      { type: "members" },
      { type: "x".repeat(100_000), format: "csv" },
      { type: "members", format: "csv", filters: { q: "y".repeat(10_000) } },
      { type: "members", format: "csv", filters: ["status"] },
      { type: "members", format: "csv", filters: { status: 1 } },
      { type: "members", format: "csv", extra: true },
      "not json",
      [],
    ]) {
      const answer = await owner.client.post(`${base()}/exports`, body);
      expect(answer.statusCode, JSON.stringify(body).slice(0, 80)).toBeGreaterThanOrEqual(400);
      expect(answer.statusCode).toBeLessThan(500);
    }
    expect((await owner.client.get(`${base()}/exports?cursor=garbage`)).statusCode).toBe(400);
    expect((await owner.client.get(`${base()}/exports/exp_nope`)).statusCode).toBe(404);
    // Nothing was queued by any of them.
    const none = await t.services.db
      .selectFrom("exports")
      .select("id")
      .where("account_id", "=", owner.accountId)
      .where("status", "=", "queued")
      .execute();
    expect(none).toEqual([]);
  });

  it("mails the requester a download link and notifies them in the app", async () => {
    const before = t.mails.length;
    const { id } = await exported({ type: "teams", format: "csv" });
    await t.services.jobs.idle();
    const mail = t.mails.slice(before).find((m) => m.to === owner.email && /export/i.test(m.subject));
    expect(mail?.subject).toBe("Your export of Export Co is ready");
    const link = /https?:\/\/\S+\/api\/v1\/export-files\/\S+/.exec(mail?.text ?? "")?.[0] as string;
    expect(link).toContain(id);
    expect((await download(link)).statusCode).toBe(200);
    const notifications = await owner.client.get("/api/v1/me/notifications");
    expect(notifications.body.data[0]).toMatchObject({ type: "export.completed", link: "/settings/data" });
  });

  it("fails an export whose requester lost data:export before it ran, and tells them", async () => {
    const id = await requestExport(admin.client, { type: "members", format: "csv" });
    const roles = await owner.client.get(`${base()}/roles`);
    const roleId = (key: string) => roles.body.data.find((r: { key: string }) => r.key === key).id;
    expect(
      (await owner.client.patch(`${base()}/members/${admin.userId}`, { role_id: roleId("developer") }))
        .statusCode,
    ).toBe(200);
    const before = t.mails.length;
    try {
      const ran = await runExports();
      expect(ran[EXPORTS_JOB]).toMatchObject({ status: "ok", result: { failed: 1, succeeded: 0 } });
      await t.services.jobs.idle();
      const mail = t.mails.slice(before).find((m) => m.to === admin.email);
      expect(mail?.subject).toBe("Your export of Export Co failed");
      expect(mail?.text).toContain("no longer holds data:export");
      const shown = await owner.client.get(`${base()}/exports/${id}`);
      expect(shown.body).toMatchObject({ status: "failed", download_url: null });
      expect(shown.body.error).toMatch(/data:export/);
      const notifications = await admin.client.get("/api/v1/me/notifications");
      expect(notifications.body.data[0]).toMatchObject({ type: "export.failed" });
    } finally {
      expect(
        (await owner.client.patch(`${base()}/members/${admin.userId}`, { role_id: roleId("admin") }))
          .statusCode,
      ).toBe(200);
    }
  });

  it("runs schedules: each run exports and mails only the recipients holding data:export then; pause, resume, delete", async () => {
    const schedules = `${base()}/export-schedules`;
    const bad = await owner.client.post(schedules, {
      type: "members",
      format: "csv",
      frequency: "hourly",
      recipients: [other.userId, "usr_nobody0000000000000", owner.userId],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual([
      "frequency",
      "recipients.0",
      "recipients.1",
    ]);
    const created = await owner.client.post(schedules, {
      type: "members",
      format: "csv",
      filters: { status: "active" },
      frequency: "daily",
      recipients: [owner.userId, admin.userId, monitor.userId],
    });
    expect(created.statusCode, created.payload).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^sched_/),
      frequency: "daily",
      paused: false,
      last_run_at: null,
      recipients: [owner.userId, admin.userId, monitor.userId],
    });
    const scheduleId = created.body.id as string;
    const firstRun = Date.parse(created.body.next_run_at);
    expect(firstRun - Date.now()).toBeGreaterThan(86_000_000);
    // Another account sees nothing of it.
    expect((await other.client.get(`${schedules}/${scheduleId}`)).statusCode).toBe(404);
    expect(
      (
        await other.client.patch(`/api/v1/accounts/${other.accountId}/export-schedules/${scheduleId}`, {
          paused: true,
        })
      ).statusCode,
    ).toBe(404);

    // The admin loses data:export before the run; the monitor never had it.
    const roles = await owner.client.get(`${base()}/roles`);
    const roleId = (key: string) => roles.body.data.find((r: { key: string }) => r.key === key).id;
    expect(
      (await owner.client.patch(`${base()}/members/${admin.userId}`, { role_id: roleId("developer") }))
        .statusCode,
    ).toBe(200);

    const before = t.mails.length;
    t.services.clock.advance(86_400 + 60);
    try {
      const ran = await t.services.jobs.runNow([EXPORT_SCHEDULES_JOB, EXPORTS_JOB]);
      expect(ran[EXPORT_SCHEDULES_JOB]).toMatchObject({ status: "ok", result: { queued: 1 } });
      expect(ran[EXPORTS_JOB]).toMatchObject({ status: "ok", result: { succeeded: 1 } });
      await t.services.jobs.idle();
      const mails = t.mails.slice(before).filter((m) => /Scheduled export/.test(m.subject));
      expect(mails.map((m) => m.to)).toEqual([owner.email]);
      const link = /https?:\/\/\S+\/api\/v1\/export-files\/\S+/.exec(mails[0]?.text ?? "")?.[0] as string;
      const file = await download(link);
      expect(file.statusCode).toBe(200);
      const rows = csvRecords(file.rawPayload.toString("utf8"));
      expect(rows.length).toBeGreaterThan(10);
      expect(new Set(rows.map((r) => r.status))).toEqual(new Set(["active"]));
      // Run once a day: running again at once queues nothing.
      const again = await t.services.jobs.runNow([EXPORT_SCHEDULES_JOB]);
      expect(again[EXPORT_SCHEDULES_JOB]).toMatchObject({ result: { queued: 0 } });
    } finally {
      t.services.clock.reset();
    }
    const shown = await owner.client.get(`${schedules}/${scheduleId}`);
    expect(shown.body.last_run_at).not.toBeNull();
    expect(Date.parse(shown.body.next_run_at)).toBe(firstRun + 86_400_000);
    const listed = await owner.client.get(`${base()}/exports`);
    expect(listed.body.data[0]).toMatchObject({ schedule_id: scheduleId, status: "succeeded" });

    const paused = await owner.client.patch(`${schedules}/${scheduleId}`, { paused: true });
    expect(paused.statusCode, paused.payload).toBe(200);
    expect(paused.body.paused).toBe(true);
    t.services.clock.advance(3 * 86_400);
    try {
      const ran = await t.services.jobs.runNow([EXPORT_SCHEDULES_JOB]);
      expect(ran[EXPORT_SCHEDULES_JOB]).toMatchObject({ result: { queued: 0 } });
    } finally {
      t.services.clock.reset();
    }
    expect((await owner.client.patch(`${schedules}/${scheduleId}`, { paused: false })).body.paused).toBe(
      false,
    );
    expect(
      (await owner.client.patch(`${schedules}/${scheduleId}`, { type: "all", format: "pdf" })).statusCode,
    ).toBe(400);
    const list = await owner.client.get(schedules);
    expect(list.body.data.map((s: { id: string }) => s.id)).toContain(scheduleId);

    expect((await owner.client.delete(`${schedules}/${scheduleId}`)).statusCode).toBe(204);
    expect((await owner.client.get(`${schedules}/${scheduleId}`)).statusCode).toBe(404);
    expect((await owner.client.delete(`${schedules}/${scheduleId}`)).statusCode).toBe(404);
    const audit = await owner.client.get(`${base()}/audit-events?target_id=${scheduleId}`);
    expect(audit.body.data.map((e: { action: string }) => e.action).sort()).toEqual([
      "export_schedule.created",
      "export_schedule.deleted",
      "export_schedule.updated",
      "export_schedule.updated",
    ]);
    expect(
      (await owner.client.patch(`${base()}/members/${admin.userId}`, { role_id: roleId("admin") }))
        .statusCode,
    ).toBe(200);
  });
});
