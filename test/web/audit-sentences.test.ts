import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { dayIn, rangeStartDay } from "../../web/src/audit-filters.js";
import {
  ACTIONS_WITH_SENTENCES,
  actorLabel,
  auditSentence,
  changeRows,
  displayValue,
  relativeTime,
} from "../../web/src/audit-sentences.js";
import type { AuditEvent } from "../../web/src/types.js";

const dana = { type: "user", id: "usr_dana", email: "dana@example.com", name: "Dana Scully" };

function event(action: string, patch: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: "evt_1",
    action,
    actor: dana,
    target: { type: "user", id: "usr_alice", name: "Alice Nguyen" },
    changes: null,
    change_names: null,
    ip: "192.0.2.1",
    user_agent: null,
    device: null,
    request_id: "req-1",
    created_at: "2026-03-01T09:00:00.000Z",
    ...patch,
  };
}

/** Every audit action the server's source records: `action: "…"` and the services' audit(…, "…") helpers. */
function recordedActions(): string[] {
  const found = new Set<string>(["domain.verified", "domain.failed"]); // `domain.${status}`
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) {
        const source = readFileSync(path, "utf8");
        for (const match of source.matchAll(/\baction: "([a-z_]+\.[a-z_]+)"/g)) found.add(match[1] as string);
        for (const match of source.matchAll(/\baudit\(\s*trx[^;]*?"([a-z_]+\.[a-z_]+)"/g))
          found.add(match[1] as string);
        for (const match of source.matchAll(/\baudit\(\s*db[^;]*?"([a-z_]+\.[a-z_]+)"/g))
          found.add(match[1] as string);
      }
    }
  };
  walk(join(__dirname, "../../src"));
  return [...found].sort();
}

describe("audit sentences", () => {
  it("has a sentence for every action the server records", () => {
    const recorded = recordedActions();
    expect(recorded.length).toBeGreaterThan(80);
    expect(recorded).toEqual(
      expect.arrayContaining(["member.role_changed", "auth.login_failed", "api_key.created"]),
    );
    const missing = recorded.filter((action) => !ACTIONS_WITH_SENTENCES.includes(action));
    expect(missing).toEqual([]);
    for (const action of recorded) {
      const sentence = auditSentence(event(action));
      expect(sentence, action).not.toMatch(/undefined|null|\[object/);
      expect(sentence, action).not.toContain(action);
    }
  });

  it("reads the issue's examples", () => {
    expect(
      auditSentence(
        event("member.role_changed", {
          changes: { from: "developer", to: "admin" },
          change_names: { from: "Developer", to: "Admin" },
        }),
      ),
    ).toBe("Dana Scully changed Alice Nguyen's role from Developer to Admin");
    expect(
      auditSentence(
        event("invitation.created", {
          target: { type: "invitation", id: "inv_1", name: null },
          changes: { email: "bob@example.com", role: "monitor", team_ids: [] },
          change_names: { role: "Monitor" },
        }),
      ),
    ).toBe("Dana Scully invited bob@example.com as Monitor");
    expect(auditSentence(event("auth.login", { actor: { ...dana, name: "Alice Nguyen" } }))).toBe(
      "Alice Nguyen signed in",
    );
    expect(
      auditSentence(
        event("auth.login_failed", {
          actor: { type: "user", id: null, email: null, name: null },
          target: { type: "user", id: "usr_alice", name: "alice@example.com" },
        }),
      ),
    ).toBe("Someone failed to sign in as alice@example.com");
    expect(
      auditSentence(
        event("team.members_set", {
          target: { type: "team", id: "team_1", name: "Night shift" },
          changes: { added: ["usr_a", "usr_b"], removed: ["usr_c"] },
          change_names: { added: ["Alice Nguyen", null], removed: ["Carl Cole"] },
        }),
      ),
    ).toBe("Dana Scully added Alice Nguyen and usr_b to and removed Carl Cole from the team Night shift");
  });

  it("falls back sensibly: unknown actions, roles without names, actors without names", () => {
    expect(auditSentence(event("widget.polished"))).toBe("Dana Scully: widget polished");
    expect(
      auditSentence(event("member.role_changed", { changes: { from: "billing_admin", to: "admin" } })),
    ).toBe("Dana Scully changed Alice Nguyen's role from Billing admin to Admin");
    expect(actorLabel(event("auth.login", { actor: { type: "system", id: null, email: null } }))).toBe(
      "Gatehouse",
    );
    expect(
      actorLabel(event("auth.login", { actor: { type: "user", id: "usr_x", email: "x@example.com" } })),
    ).toBe("x@example.com");
    expect(
      actorLabel(event("auth.login", { actor: { type: "user", id: "usr_x", email: null, name: null } })),
    ).toBe("A former member");
    expect(
      actorLabel(
        event("auth.login", { actor: { type: "api_key", id: "key_1", email: null, name: "Deploy bot" } }),
      ),
    ).toBe("API key “Deploy bot”");
    expect(
      auditSentence(event("member.suspended", { target: { type: "user", id: "usr_gone", name: null } })),
    ).toBe("Dana Scully suspended a member");
  });

  it("turns changes into readable rows, with before → after", () => {
    expect(
      changeRows(
        event("member.role_changed", {
          changes: { from: "developer", to: "admin" },
          change_names: { from: "Developer", to: "Admin" },
        }),
      ),
    ).toEqual([{ field: "Value", before: "Developer", after: "Admin" }]);
    expect(
      changeRows(
        event("account.security_updated", {
          changes: { password_policy: { from: 12, to: 14 }, mfa_required: true, ip_allowlist: [] },
        }),
      ),
    ).toEqual([
      { field: "Password policy", before: "12", after: "14" },
      { field: "Mfa required", before: null, after: "Yes" },
      { field: "Ip allowlist", before: null, after: "None" },
    ]);
    expect(displayValue({ min_length: 14 })).toBe("Min length: 14");
    expect(displayValue(null)).toBe("—");
    expect(changeRows(event("auth.login"))).toEqual([]);
  });

  it("says times relative to now", () => {
    const now = new Date("2026-03-01T12:00:00.000Z");
    expect(relativeTime("2026-03-01T11:59:50.000Z", now, "en")).toBe("just now");
    expect(relativeTime("2026-03-01T11:57:00.000Z", now, "en")).toBe("3 minutes ago");
    expect(relativeTime("2026-03-01T09:00:00.000Z", now, "en")).toBe("3 hours ago");
    expect(relativeTime("2026-02-28T12:00:00.000Z", now, "en")).toBe("yesterday");
    expect(relativeTime("2025-12-01T12:00:00.000Z", now, "en")).toBe("3 months ago");
    expect(relativeTime("not a date", now, "en")).toBe("not a date");
  });
});

describe("the default audit filter's date range", () => {
  const now = new Date("2026-03-01T02:00:00.000Z");
  it("starts the range on the right day in the user's timezone", () => {
    expect(rangeStartDay("all_time", now, "UTC")).toBe("");
    expect(rangeStartDay("today", now, "UTC")).toBe("2026-03-01");
    // Still 28 February in New York.
    expect(rangeStartDay("today", now, "America/New_York")).toBe("2026-02-28");
    expect(rangeStartDay("last_7_days", now, "UTC")).toBe("2026-02-23");
    expect(rangeStartDay("last_30_days", now, "UTC")).toBe("2026-01-31");
    expect(rangeStartDay("last_90_days", now, "Not/AZone")).toMatch(/^2025-12-0[12]$/);
    expect(dayIn(now, "Asia/Tokyo")).toBe("2026-03-01");
  });
});
