import { describe, expect, it } from "vitest";
import {
  actionLabel,
  deviceLabel,
  eventRole,
  factorSummary,
  loginOutcome,
  mergeEvents,
} from "../../web/src/member-detail.js";

describe("member detail words", () => {
  it("names a device by browser and system", () => {
    expect(deviceLabel({ browser: "Firefox 128", os: "macOS", type: "desktop" })).toBe(
      "Firefox 128 on macOS",
    );
    expect(deviceLabel({ browser: "Unknown", os: "Android", type: "mobile" })).toBe("A browser on Android");
    expect(deviceLabel({ browser: "curl 8", os: "Unknown", type: "unknown" })).toBe("curl 8");
    expect(deviceLabel({ browser: "Unknown", os: "Unknown", type: "unknown" })).toBe("Unknown device");
  });

  it("sums up second factors by kind", () => {
    expect(factorSummary([])).toBe("None");
    expect(factorSummary([{ type: "passkey" }, { type: "totp" }, { type: "passkey" }])).toBe(
      "Authenticator app, 2 passkeys",
    );
    expect(factorSummary([{ type: "sms" }, { type: "email" }])).toBe("Email codes, Text message codes");
  });

  it("says how a sign-in went", () => {
    expect(loginOutcome({ succeeded: false, method: null })).toBe("Failed attempt");
    expect(loginOutcome({ succeeded: true, method: null })).toBe("Signed in");
    expect(loginOutcome({ succeeded: true, method: "totp" })).toBe("Signed in (authenticator app)");
  });

  it("makes an action readable", () => {
    expect(actionLabel("member.role_changed")).toBe("Member role changed");
    expect(actionLabel("auth.login_failed")).toBe("Auth login failed");
    expect(actionLabel("member.mfa_reset")).toBe("Member MFA reset");
  });

  it("merges events as actor and as target, newest first, each once", () => {
    const a = { id: "a", created_at: "2026-01-01T10:00:00Z" };
    const b = { id: "b", created_at: "2026-01-02T10:00:00Z" };
    const c = { id: "c", created_at: "2026-01-03T10:00:00Z" };
    expect(mergeEvents([a, c], [b, c], 10).map((e) => e.id)).toEqual(["c", "b", "a"]);
    expect(mergeEvents([a, c], [b], 2).map((e) => e.id)).toEqual(["c", "b"]);
  });

  it("says the member's part in an event", () => {
    expect(eventRole({ actor: { id: "u1" }, target: { id: "u2" } }, "u1")).toBe("By them");
    expect(eventRole({ actor: { id: "u2" }, target: { id: "u1" } }, "u1")).toBe("About them");
    expect(eventRole({ actor: { id: "u1" }, target: { id: "u1" } }, "u1")).toBe("By and about them");
  });
});
