import { describe, expect, it } from "vitest";
import { emailParts } from "../../web/src/email-parts.js";

describe("where an email address may wrap", () => {
  it.each([
    ["alice@example.com", ["alice", "@example", ".com"]],
    ["alice.nguyen@very-long-company.example", ["alice", ".nguyen", "@very-long-company", ".example"]],
    ["a@b", ["a", "@b"]],
    ["nodomain", ["nodomain"]],
    // A leading dot or a doubled one stays with what follows; nothing is lost or added.
    [".x..y@z", [".x", ".", ".y", "@z"]],
    ["", []],
  ])("%s", (email, parts) => {
    expect(emailParts(email)).toEqual(parts);
    expect(emailParts(email).join("")).toBe(email);
  });
});
