import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FuzzRequest, operationsOf, seededRandom, variantsOf } from "../testing/fuzz.js";
import {
  addMember,
  type Client,
  createApiKey,
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  type TestApp,
  testDialects,
} from "../testing/harness.js";
import { imageUpload, pngImage } from "../testing/images.js";

/**
 * Variants per operation and caller: 105 operations × 2 callers × ~14 ≈ 3,000 requests a database.
 * FUZZ_BUDGET=1000 sends every variant (~12,000 a database); FUZZ_SEED picks another subset.
 */
const BUDGET = Number(process.env.FUZZ_BUDGET ?? 14);
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);

type Finding = { caller: string; request: string; status: number; contentType: string; body: string };

/** A Root with a member, a team, a custom role, an invitation, a card, an invoice and a pending factor. */
async function buildFixture(t: TestApp) {
  const root = await signUpAndLogin(t, { email: "fuzz-root@example.com", account: "Fuzz Co" });
  const path = (rest: string) => `/api/v1/accounts/${root.accountId}${rest}`;
  const must = async (response: ReturnType<Client["get"]>) => {
    const r = await response;
    if (r.statusCode >= 300) throw new Error(`fixture step failed: ${r.statusCode} ${r.payload}`);
    return r.body;
  };
  const card = await must(root.client.post(path("/payment-methods"), { type: "card", token: "tok_visa" }));
  await must(root.client.post(path("/billing/subscription"), { plan: "pro", interval: "month" }));
  const invoices = await must(root.client.get(path("/invoices")));
  const member = await addMember(t, root, { email: "fuzz-member@example.com", roleKey: "developer" });
  const team = await must(root.client.post(path("/teams"), { name: "Fuzz team" }));
  const role = await must(root.client.post(path("/roles"), { name: "Fuzz role", permissions: [] }));
  const monitor = (await must(root.client.get(path("/roles")))).data.find(
    (r: { key: string }) => r.key === "monitor",
  );
  const invited = await must(
    root.client.post(path("/invitations"), { emails: ["fuzz-invitee@example.com"], role_id: monitor.id }),
  );
  const factor = await must(root.client.post("/api/v1/me/mfa/totp", {}));
  // A second session of Root's, so a session id exists that is not the fuzzing one.
  await must(
    createClient(t.app).post("/api/v1/auth/login", {
      email: "fuzz-root@example.com",
      password: STRONG_PASSWORD,
    }),
  );
  const sessions = await must(root.client.get("/api/v1/me/sessions"));
  const key = await createApiKey(root, ["members:read"]);
  // A stored file, so /files/{key} is fuzzed around a key that exists.
  const logo = imageUpload(await pngImage(32, 32));
  const uploaded = await t.app.inject({
    method: "PUT",
    url: path("/logo"),
    payload: logo.payload,
    headers: {
      ...logo.headers,
      cookie: `gatehouse_session=${root.client.cookie}`,
      "x-csrf-token": root.client.csrf ?? "",
    },
  });
  if (uploaded.statusCode !== 200) throw new Error(`fixture step failed: ${uploaded.payload}`);

  const stranger = await signUpAndLogin(t, { email: "fuzz-stranger@example.com", account: "Elsewhere" });
  const strangerPath = (rest: string) => `/api/v1/accounts/${stranger.accountId}${rest}`;
  const strangerTeam = await must(stranger.client.post(strangerPath("/teams"), { name: "Their team" }));
  const strangerRole = await must(
    stranger.client.post(strangerPath("/roles"), { name: "Their role", permissions: [] }),
  );
  const strangerCard = await must(
    stranger.client.post(strangerPath("/payment-methods"), { type: "card", token: "tok_visa" }),
  );
  const strangerSessions = await must(stranger.client.get("/api/v1/me/sessions"));
  const strangerKey = await createApiKey(stranger, ["members:read"]);

  return {
    root,
    valid: {
      account_id: root.accountId,
      user_id: member.userId,
      role_id: role.id,
      team_id: team.id,
      invitation_id: invited.data[0].invitation.id,
      method_id: card.id,
      invoice_id: invoices.data[0]?.id ?? "inv_none",
      factor_id: factor.factor_id,
      id: sessions.data.find((s: { current: boolean }) => !s.current).id,
      key_id: key.id,
      key: new URL(uploaded.json().logo_url).pathname.slice("/files/".length),
    } as Record<string, string>,
    foreign: {
      account_id: stranger.accountId,
      user_id: stranger.userId,
      role_id: strangerRole.id,
      team_id: strangerTeam.id,
      method_id: strangerCard.id,
      id: strangerSessions.data[0].id,
      key_id: strangerKey.id,
    } as Record<string, string>,
  };
}

function problemFinding(
  caller: string,
  request: FuzzRequest,
  response: LightMyRequestResponse,
): Finding | undefined {
  const contentType = String(response.headers["content-type"] ?? "");
  const report = () => ({
    caller,
    request: `${request.method} ${request.url.slice(0, 160)} [${request.label}]`,
    status: response.statusCode,
    contentType,
    body: response.payload.slice(0, 200),
  });
  if (response.statusCode >= 500) return report();
  if (response.statusCode < 400) return undefined;
  if (!contentType.startsWith("application/problem+json")) return report();
  if (request.method === "HEAD") return undefined;
  const code = (JSON.parse(response.payload) as { code?: unknown }).code;
  return typeof code === "string" && /^[a-z_]+$/.test(code) ? undefined : report();
}

describe.each(testDialects())("fuzzing every operation of /openapi.json on %s", (dialect) => {
  let t: TestApp;
  let fixture: Awaited<ReturnType<typeof buildFixture>>;
  beforeAll(async () => {
    t = await createTestApp(dialect);
    fixture = await buildFixture(t);
  });
  afterAll(() => t?.close());

  // A few thousand requests: seconds alone, longer beside other test files on two cores.
  it("answers malformed requests with 4xx problem+json carrying a code, never a 5xx", {
    timeout: 180_000,
  }, async () => {
    const doc = (await t.app.inject({ url: "/openapi.json" })).json();
    // Deletions last, so the resources the other operations aim at still exist when they run.
    const operations = operationsOf(doc).sort(
      (a, b) => Number(a.method === "DELETE") - Number(b.method === "DELETE"),
    );
    const random = seededRandom(SEED);
    let root: Client = fixture.root.client;
    const findings: Finding[] = [];
    let sent = 0;

    const send = (request: FuzzRequest, client: Client | undefined) =>
      t.app.inject({
        method: request.method as "GET",
        url: request.url,
        remoteAddress: client ? "127.0.0.1" : "192.0.2.10",
        headers: {
          ...(client?.cookie ? { cookie: `gatehouse_session=${client.cookie}` } : {}),
          ...(client?.csrf && !request.withoutCsrf ? { "x-csrf-token": client.csrf } : {}),
          ...request.headers,
        },
        ...(request.payload !== undefined ? { payload: request.payload } : {}),
      });

    for (const operation of operations) {
      for (const caller of ["anonymous", "root"] as const) {
        for (const request of variantsOf(operation, fixture, random, BUDGET)) {
          const response = await send(request, caller === "root" ? root : undefined);
          sent++;
          const finding = problemFinding(caller, request, response);
          if (finding) findings.push(finding);
          // Keep fuzzing as a logged-in Root when a variant logged out or moved the clock.
          if (request.url.startsWith("/dev/clock")) t.services.clock.reset();
          if (caller === "root" && response.statusCode === 401 && !request.headers.cookie) {
            root = createClient(t.app);
            await root.post("/api/v1/auth/login", {
              email: "fuzz-root@example.com",
              password: STRONG_PASSWORD,
            });
          }
        }
      }
    }
    expect(sent).toBeGreaterThan(500);
    const report = findings
      .slice(0, 40)
      .map((f) => `${f.caller} ${f.request} → ${f.status} ${f.contentType} ${f.body}`)
      .join("\n");
    expect(findings.length, `${findings.length} findings, the first ones:\n${report}`).toBe(0);
  });
});
