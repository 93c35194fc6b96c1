import type { Kysely } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../db/database.js";
import { migrateToLatest, migrateUpTo } from "../db/migrate.js";
import {
  addMember,
  createApiKey,
  createKeyClient,
  createTestApp,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { pdfText } from "../testing/pdf-text.js";
import { createScratchDatabase } from "../testing/server-process.js";
import { COUNTRIES } from "./organization.js";

const ADDRESS = {
  line1: "Friedrichstraße 123",
  line2: "3. OG",
  city: "Berlin",
  region: null,
  postal_code: "10117",
  country: "DE",
};

describe.each(testDialects())("organization profile on %s", (dialect) => {
  let t: TestApp;
  let root: Awaited<ReturnType<typeof signUpAndLogin>>;
  let path: string;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    root = await signUpAndLogin(t, { email: "org-root@example.com", account: "Org Co" });
    path = `/api/v1/accounts/${root.accountId}`;
  });
  afterAll(() => t?.close());

  it("stores the whole profile, normalized, and shows it back", async () => {
    const fresh = await root.client.get(path);
    // A new account bills its creator until someone says otherwise.
    expect(fresh.body).toMatchObject({
      billing_email: "org-root@example.com",
      certifications: [],
      address: null,
    });
    const patched = await root.client.patch(path, {
      legal_name: "  Org Company GmbH  ",
      website: "https://org.example/about",
      industry: "other",
      industry_other: "Space tourism",
      phone: "+49 (30) 901820",
      address: { ...ADDRESS, country: "de", line2: "  " },
      tax_id: "DE123456789",
      billing_email: "invoices@org.example",
      certifications: ["gdpr", "soc2", "iso27001"],
    });
    expect(patched.statusCode, patched.payload).toBe(200);
    expect(patched.body).toMatchObject({
      legal_name: "Org Company GmbH",
      website: "https://org.example/about",
      industry: "other",
      industry_other: "Space tourism",
      phone: "+4930901820",
      address: { ...ADDRESS, line2: null, country: "DE" },
      tax_id: "DE123456789",
      billing_email: "invoices@org.example",
      // In the catalog's order, whatever order they came in.
      certifications: ["soc2", "iso27001", "gdpr"],
      logo_url: null,
    });
    expect((await root.client.get(path)).body).toEqual(patched.body);
    // Another industry than "other" drops the description; null clears fields.
    const changed = await root.client.patch(path, {
      industry: "fintech",
      address: null,
      phone: null,
      certifications: [],
    });
    expect(changed.body).toMatchObject({
      industry: "fintech",
      industry_other: null,
      address: null,
      phone: null,
      certifications: [],
    });
  });

  it("records one audit event and one account.updated event listing what changed", async () => {
    await root.client.patch(path, { legal_name: "Audit GmbH", website: "http://audit.example" });
    const audit = await root.client.get(`${path}/audit-events?action=account.updated`);
    expect(audit.body.data[0].changes).toEqual({ legal_name: "Audit GmbH", website: "http://audit.example" });
    const events = await t.services.db
      .selectFrom("events")
      .select(["data"])
      .where("account_id", "=", root.accountId)
      .where("type", "=", "account.updated")
      .execute();
    const event = events.filter((e) => JSON.parse(e.data).legal_name === "Audit GmbH");
    expect(event).toHaveLength(1);
    expect(JSON.parse(event[0]?.data ?? "{}").changed).toEqual(["legal_name", "website"]);
  });

  it("refuses bad and ugly input, naming each field", async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ website: "javascript:alert(1)" }, "website", "invalid_format"],
      [{ website: "ftp://org.example" }, "website", "invalid_format"],
      [{ website: "https://" }, "website", "invalid_format"],
      [{ website: `https://x.example/${"a".repeat(3000)}` }, "website", "too_long"],
      [{ industry: "Software" }, "industry", "invalid_value"],
      [{ industry: "aerospace" }, "industry", "invalid_value"],
      [{ industry: 7 }, "industry", "invalid_value"],
      [{ industry: "software", industry_other: "Rockets" }, "industry_other", "requires_other"],
      [{ phone: "555-0100" }, "phone", "invalid_format"],
      [{ phone: "+1 555 CALL NOW" }, "phone", "invalid_format"],
      [{ phone: "+٤٩٣٠٩٠١٨٢٠" }, "phone", "invalid_format"],
      [{ phone: 4930901820 }, "phone", "invalid_value"],
      [{ address: { ...ADDRESS, country: "XK" } }, "address.country", "invalid_country"],
      [{ address: { ...ADDRESS, country: "UK" } }, "address.country", "invalid_country"],
      [{ address: { ...ADDRESS, country: "DEU" } }, "address.country", "too_long"],
      [{ address: { ...ADDRESS, city: undefined } }, "address.city", "required"],
      [{ address: { ...ADDRESS, line1: "" } }, "address.line1", "too_short"],
      [{ address: { ...ADDRESS, planet: "Mars" } }, "address.planet", "unknown_field"],
      [{ address: "Friedrichstraße 123, Berlin" }, "address", "invalid_value"],
      [{ legal_name: "x".repeat(201) }, "legal_name", "too_long"],
      [{ legal_name: ["Org"] }, "legal_name", "invalid_value"],
      [{ legal_name: "Org\u0000Co" }, "legal_name", "invalid_characters"],
      [{ tax_id: "x".repeat(65) }, "tax_id", "too_long"],
      [{ billing_email: "not-an-email" }, "billing_email", "invalid_format"],
      [{ certifications: ["soc2", "soc2"] }, "certifications", "duplicate"],
      [{ certifications: ["fedramp"] }, "certifications.0", "invalid_value"],
      [{ certifications: "soc2" }, "certifications", "invalid_type"],
      [{ logo_url: "https://tracker.example/pixel.png" }, "logo_url", "read_only"],
      [{ logo_url: null }, "logo_url", "read_only"],
      [{ logo_thumb_url: "https://x.example/a.png" }, "logo_thumb_url", "read_only"],
    ];
    const before = (await root.client.get(path)).body;
    for (const [body, field, code] of cases) {
      const response = await root.client.patch(path, body);
      const label = JSON.stringify(body).slice(0, 80);
      expect(response.statusCode, label).toBe(400);
      expect(response.body.code, label).toBe("validation_failed");
      expect(response.body.errors, label).toContainEqual(expect.objectContaining({ path: field, code }));
    }
    expect((await root.client.get(path)).body).toEqual(before);
  });

  it("keeps unicode and markup as text, exactly", async () => {
    const response = await root.client.patch(path, {
      legal_name: "株式会社 Ørsted & <b>Söhne</b> 🚀",
      tax_id: "'; drop table accounts; --",
      industry: "other",
      industry_other: '<img src=x onerror="alert(1)">',
      address: { ...ADDRESS, line1: "Ул. Тверская, 7", city: "Москва", country: "ru" },
    });
    expect(response.statusCode, response.payload).toBe(200);
    const stored = (await root.client.get(path)).body;
    expect(stored.legal_name).toBe("株式会社 Ørsted & <b>Söhne</b> 🚀");
    expect(stored.tax_id).toBe("'; drop table accounts; --");
    expect(stored.industry_other).toBe('<img src=x onerror="alert(1)">');
    expect(stored.address).toMatchObject({ line1: "Ул. Тверская, 7", city: "Москва", country: "RU" });
  });

  it("needs account:update to change (403 for a member without it), and hides other accounts (404)", async () => {
    const monitor = await addMember(t, root, { email: "org-monitor@example.com", roleKey: "monitor" });
    const refused = await monitor.client.patch(path, { legal_name: "Hijacked" });
    expect(refused.statusCode).toBe(403);
    expect(refused.body.code).toBe("forbidden");
    // Reading the profile is a member's right.
    expect((await monitor.client.get(path)).body.legal_name).not.toBe("Hijacked");
    const stranger = await signUpAndLogin(t, { email: "org-stranger@example.com", account: "Other Co" });
    const foreign = await stranger.client.patch(path, { legal_name: "Hijacked" });
    expect(foreign.statusCode).toBe(404);
    const key = await createApiKey(root, ["account:update"]);
    const byKey = await createKeyClient(t.app, key.secret).patch(path, { website: "https://key.example" });
    expect(byKey.statusCode, byKey.payload).toBe(200);
    const otherAccount = await createKeyClient(t.app, key.secret).patch(
      `/api/v1/accounts/${stranger.accountId}`,
      {
        website: "https://key.example",
      },
    );
    expect(otherAccount.statusCode).toBe(404);
  });

  it("snapshots who is billed on each invoice: later profile changes never reach past invoices or PDFs", async () => {
    const owner = await signUpAndLogin(t, { email: "org-billing@example.com", account: "Billed Co" });
    const base = `/api/v1/accounts/${owner.accountId}`;
    await owner.client.patch(base, {
      legal_name: "Billed Company Ltd",
      tax_id: "GB999999973",
      address: { ...ADDRESS, city: "Leeds", country: "GB", postal_code: "LS1 4AP", line2: null },
    });
    expect(
      (await owner.client.post(`${base}/payment-methods`, { type: "card", token: "tok_visa" })).statusCode,
    ).toBe(201);
    const upgrade = await owner.client.post(`${base}/billing/subscription`, {
      plan: "pro",
      interval: "month",
    });
    expect(upgrade.statusCode, upgrade.payload).toBeLessThan(300);
    const [invoice] = (await owner.client.get(`${base}/invoices`)).body.data;
    const expected = {
      legal_name: "Billed Company Ltd",
      address: { ...ADDRESS, city: "Leeds", country: "GB", postal_code: "LS1 4AP", line2: null },
      tax_id: "GB999999973",
    };
    expect(invoice.bill_to).toEqual(expected);

    await owner.client.patch(base, { legal_name: "Renamed Holdings plc", tax_id: null, address: null });
    expect((await owner.client.get(`${base}/invoices/${invoice.id}`)).body.bill_to).toEqual(expected);
    const pdf = await owner.client.get(`${base}/invoices/${invoice.id}/pdf`);
    const text = pdfText(pdf.rawPayload);
    expect(text).toContain("Billed Company Ltd");
    expect(text).toContain("Friedrichstraße 123");
    expect(text).toContain("LS1 4AP Leeds");
    expect(text).toContain("Tax ID: GB999999973");
    expect(text).not.toContain("Renamed Holdings");

    // Without a legal name the account's name is billed.
    await owner.client.patch(base, { legal_name: null });
    await owner.client.post(`${base}/billing/subscription`, { plan: "team", interval: "month" });
    const latest = (await owner.client.get(`${base}/invoices`)).body.data[0];
    expect(latest.id).not.toBe(invoice.id);
    expect(latest.bill_to).toEqual({ legal_name: "Billed Co", address: null, tax_id: null });
  });
});

describe.each(testDialects())("migration 0022 on an upgraded %s database", (dialect) => {
  it("moves free-text industries to the list or to other, copies billing emails, snapshots invoices, drops free URLs", async () => {
    const scratch = await createScratchDatabase(dialect);
    const database = openDatabase(scratch.url);
    try {
      await migrateUpTo(database, "0021-notifications");
      const at = "2026-01-01T00:00:00.000Z";
      const accounts: Array<[string, string | null, string | null, string | null]> = [
        ["acct_a", "Software", "a@example.com", "https://evil.example/pixel.gif"],
        ["acct_b", "Professional Services", null, null],
        ["acct_c", "Space tourism & more", "c@example.com", null],
        ["acct_d", null, null, null],
        ["acct_e", "   ", null, null],
      ];
      // biome-ignore lint/suspicious/noExplicitAny: the schema as it was before 0022 (logo_url, no bill_to)
      const before = database.db as unknown as Kysely<any>;
      for (const [id, industry, contact, logo] of accounts) {
        await before
          .insertInto("accounts")
          .values({
            id,
            name: `Name ${id}`,
            slug: id,
            settings: "{}",
            industry,
            contact_email: contact,
            tax_id: id === "acct_a" ? "T-1" : null,
            logo_url: logo,
            created_at: at,
            updated_at: at,
          })
          .execute();
      }
      await before
        .insertInto("invoices")
        .values({
          id: "in_old",
          account_id: "acct_a",
          number: "A-0001",
          status: "paid",
          period_start: at,
          period_end: at,
          subtotal: 100,
          total: 100,
          currency: "USD",
          payment_attempts: 1,
          next_payment_at: null,
          last_payment_error: null,
          paid_at: at,
          voided_at: null,
          created_at: at,
        })
        .execute();

      expect(await migrateToLatest(database)).toContain("0022-organization-profile");

      const rows = await database.db
        .selectFrom("accounts")
        .select(["id", "industry", "industry_other", "billing_email", "certifications", "logo_key"])
        .orderBy("id")
        .execute();
      expect(rows).toEqual([
        {
          id: "acct_a",
          industry: "software",
          industry_other: null,
          billing_email: "a@example.com",
          certifications: "[]",
          logo_key: null,
        },
        {
          id: "acct_b",
          industry: "professional_services",
          industry_other: null,
          billing_email: null,
          certifications: "[]",
          logo_key: null,
        },
        {
          id: "acct_c",
          industry: "other",
          industry_other: "Space tourism & more",
          billing_email: "c@example.com",
          certifications: "[]",
          logo_key: null,
        },
        {
          id: "acct_d",
          industry: null,
          industry_other: null,
          billing_email: null,
          certifications: "[]",
          logo_key: null,
        },
        {
          id: "acct_e",
          industry: null,
          industry_other: null,
          billing_email: null,
          certifications: "[]",
          logo_key: null,
        },
      ]);
      const invoice = await database.db.selectFrom("invoices").select("bill_to").executeTakeFirstOrThrow();
      expect(JSON.parse(invoice.bill_to as string)).toEqual({
        legal_name: "Name acct_a",
        address: null,
        tax_id: "T-1",
      });
      // The free URL column is gone with its value.
      const columns = (await database.db.introspection.getTables()).find(
        (table) => table.name === "accounts",
      )?.columns;
      expect(columns?.map((c) => c.name)).not.toContain("logo_url");
    } finally {
      await database.close();
      await scratch.drop();
    }
  });
});

describe("the country list", () => {
  it("is ISO 3166-1 alpha-2's 249 assigned codes, each a region Intl knows by name", () => {
    expect(COUNTRIES.size).toBe(249);
    const names = new Intl.DisplayNames(["en"], { type: "region" });
    for (const code of COUNTRIES) expect(names.of(code), code).not.toBe(code);
    for (const code of ["XK", "EU", "UK", "UN", "AA", "ZZ"]) expect(COUNTRIES.has(code), code).toBe(false);
  });
});
