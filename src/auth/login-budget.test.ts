import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createClient,
  createTestApp,
  STRONG_PASSWORD,
  signUpAndLogin,
  statementsDuring,
  type TestApp,
  testDialects,
} from "../testing/harness.js";

/**
 * Query budgets of the anonymous auth requests that end in a password hash: each statement is a round
 * trip on PostgreSQL, next to a hash of a few milliseconds. The numbers are exact, so a change that adds
 * a statement fails here and has to lower something else or raise the budget on purpose.
 *
 * A log-in is counted whole: its answer (the session state) is built from what it read, so nothing
 * follows the commit. A sign-up is counted up to its transaction's commit; not counted: its answer's
 * session state (src/auth/session-response.ts, read once for the new user) and, in tests, the delivery
 * of queued mail (production answers first).
 */
const BUDGETS = {
  // PostgreSQL writes an audit event and moves its chain's head in one statement (SQLite in two), stores
  // a log-in's session with its bookkeeping in one, and sends cache notifications with another statement
  // (src/db/database.ts `notifyAlong`); SQLite has no round trips to save.
  sqlite: { loginOnKnownDevice: 13, signup: 25 },
  postgres: { loginOnKnownDevice: 9, signup: 23 },
} as const;

/** The statements up to and including the first commit. */
function untilCommit(statements: string[]): string[] {
  const end = statements.indexOf("commit");
  if (end < 0) throw new Error(`no commit among:\n${statements.join("\n")}`);
  return statements.slice(0, end + 1);
}

describe.each(testDialects())("log-in and sign-up query budgets on %s", (dialect) => {
  const budget = BUDGETS[dialect];
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(dialect);
  });
  afterAll(() => t?.close());

  it(`logs in with a password on a device used before in ${budget.loginOnKnownDevice} statements`, async () => {
    const { client } = await signUpAndLogin(t, { email: "budget-login@example.com" });
    // A browser coming back: its device cookie, no session.
    client.cookie = undefined;
    await t.services.jobs.idle();
    let status = 0;
    const statements = await statementsDuring(t, async () => {
      const login = await client.post("/api/v1/auth/login", {
        email: "budget-login@example.com",
        password: STRONG_PASSWORD,
      });
      status = login.statusCode;
    });
    expect(status).toBe(200);
    expect(statements, statements.join("\n")).toHaveLength(budget.loginOnKnownDevice);
    expect(statements.at(-1)).toBe("commit");
    // The same device: nothing mailed.
    await t.services.jobs.idle();
    expect(t.mails.filter((m) => /New sign-in/i.test(m.subject))).toHaveLength(0);
  });

  it(`signs up in ${budget.signup} statements`, async () => {
    const client = createClient(t.app, { ip: "192.0.2.77" });
    await t.services.jobs.idle();
    let status = 0;
    const statements = await statementsDuring(t, async () => {
      const signup = await client.post("/api/v1/auth/signup", {
        email: "budget-signup@example.com",
        password: STRONG_PASSWORD,
        name: "Budget Person",
        account_name: "Budget Co",
      });
      status = signup.statusCode;
    });
    expect(status).toBe(201);
    expect(untilCommit(statements)).toHaveLength(budget.signup);
  });
});
