import { describe, expect, it } from "vitest";
import {
  type Assignment,
  assignmentName,
  bulkRoleSummary,
  holding,
  type PermissionSource,
  sourceLabel,
} from "../../web/src/assignments.js";

const adminRole: PermissionSource = {
  type: "role",
  role_id: "role_a",
  role_key: "admin",
  role_name: "Admin",
};
const platform: PermissionSource = {
  type: "team",
  role_id: "role_d",
  role_key: "developer",
  role_name: "Developer",
  team_id: "team_p",
  team_name: "Platform",
};

const member = (permissions: Assignment["permissions"], name = "Dana Scully"): Assignment => ({
  user_id: "usr_1",
  email: "dana@example.com",
  first_name: "Dana",
  last_name: "Scully",
  name,
  status: "active",
  role: { id: "role_a", key: "admin", name: "Admin" },
  teams: [],
  permissions,
});

describe("assignments wording", () => {
  it("names a permission's source: the member's role, or a team and the role it gives", () => {
    expect(sourceLabel(adminRole)).toBe("Admin role");
    expect(sourceLabel(platform)).toBe("via team Platform (Developer)");
  });

  it("says whether a member holds a permission and through what", () => {
    const m = member([
      { permission: "resources:write", sources: [adminRole, platform] },
      { permission: "account:read", sources: [adminRole] },
    ]);
    expect(holding(m, "resources:write")).toEqual({
      held: true,
      text: "Admin role, via team Platform (Developer)",
    });
    expect(holding(m, "account:read")).toEqual({ held: true, text: "Admin role" });
    expect(holding(m, "account:close")).toEqual({ held: false, text: "No" });
  });

  it("shows the address when there is no name", () => {
    expect(assignmentName(member([], "Dana Scully"))).toBe("Dana Scully");
    expect(assignmentName(member([], "  "))).toBe("dana@example.com");
  });

  it("sums up a bulk role change", () => {
    const ok = { user_id: "usr_1", member: { role: { id: "r", key: "developer", name: "Developer" } } };
    const refused = { user_id: "usr_2", error: { code: "root_only", detail: "Only Root" } };
    expect(bulkRoleSummary([ok, refused], "Developer")).toBe("1 member is now Developer; 1 was not changed.");
    expect(bulkRoleSummary([ok, ok], "Developer")).toBe("2 members are now Developer.");
    expect(bulkRoleSummary([refused, refused], "Developer")).toBe("2 were not changed.");
    expect(bulkRoleSummary([], "Developer")).toBe("Nobody was selected.");
  });
});
