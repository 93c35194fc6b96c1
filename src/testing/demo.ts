import { addMember, type Client, signUpAndLogin, type TestApp } from "./harness.js";
import { seedMembers } from "./seed.js";

export const DEMO_ROOT = { email: "alice.nguyen@northwind.example", password: "violet-Harbor-sunrise-42" };

export type DemoAccount = {
  root: { client: Client; userId: string; accountId: string };
  accountId: string;
  memberId: string;
  teamId: string;
  roleId: string;
  /** An API key Alice made ("Deploy pipeline"), so the API keys pages have something to show. */
  apiKeyId: string;
  invoiceId: string | undefined;
};

/**
 * An account as a customer's admin would have it after a few weeks, made through the API: members of
 * every built-in role (one suspended), a pending invitation, a team with a role, a custom role, a card,
 * the Pro plan with its invoice, and enough seeded members to fill a page. For screenshots and the
 * accessibility journey, so every page has something to show.
 */
export async function createDemoAccount(t: TestApp): Promise<DemoAccount> {
  const root = await signUpAndLogin(t, {
    email: DEMO_ROOT.email,
    password: DEMO_ROOT.password,
    name: "Alice Nguyen",
    account: "Northwind Traders",
  });
  const { client, accountId } = root;
  const base = `/api/v1/accounts/${accountId}`;
  const ok = async (
    response: Promise<{ statusCode: number; payload: string; body: Record<string, unknown> }>,
  ) => {
    const answer = await response;
    if (answer.statusCode >= 400) throw new Error(`demo setup: ${answer.statusCode} ${answer.payload}`);
    return answer.body;
  };

  await ok(client.post(`${base}/payment-methods`, { type: "card", token: "tok_visa" }));
  const upgraded = await ok(client.post(`${base}/billing/subscription`, { plan: "pro", interval: "month" }));
  const invoiceId = (upgraded.invoice as { id?: string } | undefined)?.id;

  const people = [
    { email: "maya.patel@northwind.example", firstName: "Maya", roleKey: "admin" },
    { email: "noah.kim@northwind.example", firstName: "Noah", roleKey: "developer" },
    { email: "olivia.brown@northwind.example", firstName: "Olivia", roleKey: "billing" },
    { email: "liam.garcia@northwind.example", firstName: "Liam", roleKey: "monitor" },
  ];
  const ids: string[] = [];
  for (const person of people) ids.push((await addMember(t, root, person)).userId);
  await ok(client.post(`${base}/members/${ids[3]}/suspend`));
  await seedMembers(t.services.db, accountId, 30, { prefix: "northwind" });

  const roles = (await ok(client.get(`${base}/roles`))).data as Array<{ id: string; key: string }>;
  const developer = roles.find((r) => r.key === "developer")?.id;
  const team = await ok(
    client.post(`${base}/teams`, {
      name: "Platform",
      description: "Runs the build and deploy pipeline",
      role_id: developer,
    }),
  );
  await ok(client.put(`${base}/teams/${team.id}/members`, { user_ids: [ids[0], ids[1]] }));
  const role = await ok(client.post(`${base}/roles`, { template: "manager" }));
  await ok(
    client.post(`${base}/invitations`, {
      emails: ["sophia.lee@northwind.example"],
      role_id: roles.find((r) => r.key === "monitor")?.id,
    }),
  );
  // Alice has just logged in, so her authentication is fresh enough to make a key.
  const apiKey = await ok(
    client.post(`${base}/api-keys`, {
      name: "Deploy pipeline",
      scopes: ["members:read", "teams:read", "resources:read", "resources:write"],
      allowed_ips: ["203.0.113.0/24"],
    }),
  );
  return {
    root: { client, userId: root.userId, accountId },
    accountId,
    memberId: ids[1] as string,
    teamId: team.id as string,
    roleId: role.id as string,
    apiKeyId: apiKey.id as string,
    invoiceId,
  };
}
