import { describe, expect, it } from "vitest";
import { closureNameMatches, soleRootAccounts } from "../../web/src/account-closure.js";
import { ApiError } from "../../web/src/api.js";

describe("account closure helpers", () => {
  it("accepts only the account's exact name as the typed confirmation", () => {
    expect(closureNameMatches("Acme Inc.", "Acme Inc.")).toBe(true);
    expect(closureNameMatches("acme inc.", "Acme Inc.")).toBe(false);
    expect(closureNameMatches(" Acme Inc.", "Acme Inc.")).toBe(false);
    expect(closureNameMatches("", "")).toBe(false);
  });

  it("reads the accounts of a sole_root refusal and nothing from other errors", () => {
    const refusal = new ApiError({
      status: 409,
      code: "sole_root",
      detail: "You are the only Root of Acme",
      body: { code: "sole_root", accounts: [{ id: "acct_1", name: "Acme" }, { id: 3 }] },
    });
    expect(soleRootAccounts(refusal)).toEqual([{ id: "acct_1", name: "Acme" }]);
    expect(
      soleRootAccounts(new ApiError({ status: 400, code: "incorrect_password", detail: "No" })),
    ).toBeNull();
    expect(soleRootAccounts(new Error("boom"))).toBeNull();
  });
});
