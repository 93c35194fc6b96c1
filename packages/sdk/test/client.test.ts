import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey, signUpAndLogin, type TestApp, testDialects } from "../../../src/testing/harness.js";
import { createGatehouseClient } from "../src/index.js";
import { startGatehouse } from "./support.js";

describe.each(testDialects())("typed API client on %s", (dialect) => {
  let t: TestApp;
  let url: string;
  beforeAll(async () => {
    ({ t, url } = await startGatehouse(dialect));
  });
  afterAll(async () => {
    await t?.close();
  });

  it("lists the members of its account with an API key (typed body); a wrong key gets 401", async () => {
    const owner = await signUpAndLogin(t, { email: "sdk-client@example.com", name: "Ada Owner" });
    const key = await createApiKey(owner, ["members:read"]);
    const gatehouse = createGatehouseClient({ baseUrl: `${url}/`, apiKey: key.secret });

    const { data, error, response } = await gatehouse.GET("/api/v1/accounts/{account_id}/members", {
      params: { path: { account_id: owner.accountId } },
    });
    expect(error, JSON.stringify(error)).toBeUndefined();
    expect(response.status).toBe(200);
    // Typed: `data.data[n].email` and `.role.key` are known to the compiler (a typo would not build).
    const members = data?.data ?? [];
    expect(members.map((m) => [m.email, m.role.key, m.status])).toEqual([
      ["sdk-client@example.com", "root", "active"],
    ]);

    const wrong = createGatehouseClient({ baseUrl: url, apiKey: `${key.secret.slice(0, -4)}AAAA` });
    const refused = await wrong.GET("/api/v1/accounts/{account_id}/members", {
      params: { path: { account_id: owner.accountId } },
    });
    expect(refused.response.status).toBe(401);
    expect(refused.data).toBeUndefined();
    expect(refused.response.headers.get("content-type")).toContain("application/problem+json");
  });
});
