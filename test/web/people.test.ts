import { describe, expect, it } from "vitest";
import {
  defaultInviteRole,
  inviteOutcomes,
  inviteRefusal,
  inviteSummary,
  type ManagedAccount,
  managesSeveralAccounts,
  peopleQuery,
  personLabel,
} from "../../web/src/people.js";

const account = (id: string): ManagedAccount => ({
  account_id: id,
  account_name: id,
  role: { id: `role_${id}`, key: "admin", name: "Admin" },
  can_invite: true,
});

describe("people across accounts", () => {
  it("is for people who read members in two accounts or more", () => {
    expect(managesSeveralAccounts(undefined)).toBe(false);
    expect(managesSeveralAccounts([])).toBe(false);
    expect(managesSeveralAccounts([account("a")])).toBe(false);
    expect(managesSeveralAccounts([account("a"), account("b")])).toBe(true);
  });

  it("leaves empty filters out of the query and trims the search", () => {
    expect(peopleQuery({ account_id: "", q: "  ", status: "" })).toEqual({
      account_id: undefined,
      q: undefined,
      status: undefined,
    });
    expect(peopleQuery({ account_id: "acct_1", q: " sam ", status: "suspended" })).toEqual({
      account_id: "acct_1",
      q: "sam",
      status: "suspended",
    });
  });

  it("names a person by name, else by address", () => {
    expect(personLabel({ name: "Sam Person", email: "sam@x.test" })).toBe("Sam Person");
    expect(personLabel({ name: " ", email: "sam@x.test" })).toBe("sam@x.test");
  });

  it("lays the answer out per address and per account, and counts what was sent", () => {
    const outcomes = inviteOutcomes([
      { email: "x@t", account_id: "A", invitation: { id: "inv_1" } },
      { email: "y@t", account_id: "A", invitation: { id: "inv_2" } },
      { email: "x@t", account_id: "B", error: { code: "seat_limit_reached", detail: "…" } },
      { email: "y@t", account_id: "B", error: { code: "seat_limit_reached", detail: "…" } },
    ]);
    expect(outcomes.emails).toEqual(["x@t", "y@t"]);
    expect(outcomes.accountIds).toEqual(["A", "B"]);
    expect(outcomes.cell("y@t", "A")?.invitation?.id).toBe("inv_2");
    expect(outcomes.cell("y@t", "B")?.error?.code).toBe("seat_limit_reached");
    expect(outcomes.cell("z@t", "A")).toBeUndefined();
    expect(inviteSummary(outcomes)).toBe("Sent 2 invitations. 2 were not sent (reasons below).");
    expect(inviteSummary({ sent: 1, refused: 0 })).toBe("Sent 1 invitation.");
    expect(inviteSummary({ sent: 0, refused: 1 })).toBe(
      "No invitations were sent. 1 was not sent (reasons below).",
    );
  });

  it("explains the refusals about an account in words naming it, and leaves the rest to the shared explanations", () => {
    const row = (code: string) => ({
      email: "x@t",
      account_id: "B",
      error: { code, detail: "server detail" },
    });
    expect(inviteRefusal(row("seat_limit_reached"), "Bravo")).toBe(
      "No free seat in Bravo: its plan's seat limit is reached.",
    );
    expect(inviteRefusal(row("not_found"), "Bravo")).toBe("You are not a member of Bravo.");
    expect(inviteRefusal(row("forbidden"), "Bravo")).toBe(
      "Your role in Bravo doesn't allow inviting people.",
    );
    expect(inviteRefusal(row("root_only"), "Bravo")).toBeNull();
    expect(inviteRefusal({ email: "x@t", account_id: "B", invitation: { id: "i" } }, "Bravo")).toBeNull();
  });

  it("starts each account at Monitor, else at the first role that is not Root", () => {
    const roles = [
      { id: "r1", key: "root", name: "Root" },
      { id: "r2", key: "admin", name: "Admin" },
      { id: "r5", key: "monitor", name: "Monitor" },
    ];
    expect(defaultInviteRole(roles)).toBe("r5");
    expect(defaultInviteRole(roles.slice(0, 2))).toBe("r2");
    expect(defaultInviteRole([])).toBe("");
  });
});
