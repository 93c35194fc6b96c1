import { describe, expect, it } from "vitest";
import {
  authorizeStep,
  consentScopes,
  loginPathFor,
  type OidcInteraction,
  safeLogo,
  scopeWords,
} from "../../web/src/oidc.js";
import { sameOriginPath } from "../../web/src/same-origin-path.js";

const accountA = { account_id: "acc_a", account_name: "Acme", role: { key: "admin", name: "Admin" } };
const accountB = { account_id: "acc_b", account_name: "Beta", role: { key: "monitor", name: "Monitor" } };

function interaction(patch: Partial<OidcInteraction> = {}): OidcInteraction {
  return {
    uid: "u1",
    client: { client_id: "notes", name: "Notes", logo_uri: null, party: "first" },
    scopes: ["openid", "gatehouse:account"],
    needs_account: true,
    consent_required: false,
    signed_in: true,
    accounts: [accountA],
    ...patch,
  };
}

describe("the authorize page's steps", () => {
  it("sends a signed-out user to log in first, coming back to the same page", () => {
    expect(authorizeStep(interaction({ signed_in: false, accounts: [] }), null)).toEqual({ kind: "sign-in" });
    const login = loginPathFor("abc_-9", null);
    expect(login).toBe("/login?next=%2Fauthorize%2Fabc_-9");
    const next = new URLSearchParams(login.slice("/login".length)).get("next");
    expect(sameOriginPath(next, "https://gatehouse.example")).toBe("/authorize/abc_-9");
    expect(loginPathFor("u1", "acme")).toBe("/login?next=%2Fauthorize%2Fu1&account=acme");
  });

  it("completes a first-party sign-in at once with the only account, or without one when none is needed", () => {
    expect(authorizeStep(interaction(), null)).toEqual({ kind: "complete", accountId: "acc_a" });
    expect(
      authorizeStep(interaction({ needs_account: false, accounts: [accountA, accountB] }), null),
    ).toEqual({
      kind: "complete",
      accountId: null,
    });
  });

  it("asks which account when there are several, then goes on with the chosen one", () => {
    const several = interaction({ accounts: [accountA, accountB] });
    expect(authorizeStep(several, null)).toEqual({ kind: "choose-account" });
    expect(authorizeStep(several, "acc_elsewhere")).toEqual({ kind: "choose-account" });
    expect(authorizeStep(several, "acc_b")).toEqual({ kind: "complete", accountId: "acc_b" });
    expect(authorizeStep(interaction({ accounts: [] }), null)).toEqual({ kind: "no-account" });
  });

  it("asks for consent for a third-party application, and when the server says so", () => {
    const third = interaction({
      client: { ...interaction().client, party: "third" },
      consent_required: true,
    });
    expect(authorizeStep(third, null)).toEqual({ kind: "consent", accountId: "acc_a" });
    expect(authorizeStep(interaction({ consent_required: true }), null)).toEqual({
      kind: "consent",
      accountId: "acc_a",
    });
  });
});

describe("scopes in plain words", () => {
  it("says each known scope in words, in a fixed order, unknown ones last and as they are", () => {
    expect(consentScopes(["gatehouse:account", "custom:thing", "openid", "email", "openid"])).toEqual([
      "openid",
      "email",
      "gatehouse:account",
      "custom:thing",
    ]);
    expect(scopeWords("email")).toBe("See your email address");
    expect(scopeWords("custom:thing")).toBe("Use “custom:thing”");
  });

  it("shows only http(s) logos", () => {
    expect(safeLogo("https://notes.example/logo.png")).toBe("https://notes.example/logo.png");
    expect(safeLogo("javascript:alert(1)")).toBeNull();
    expect(safeLogo("data:image/png;base64,AAAA")).toBeNull();
    expect(safeLogo(null)).toBeNull();
  });
});
