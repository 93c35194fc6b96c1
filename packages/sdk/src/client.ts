import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { paths } from "./schema.js";

export type { paths } from "./schema.js";

export type GatehouseClientOptions = Omit<ClientOptions, "baseUrl"> & {
  /** Gatehouse's PUBLIC_URL, e.g. `https://gatehouse.example.com` (the paths start with /api/v1). */
  baseUrl: string;
} & ({ apiKey: string; accessToken?: never } | { accessToken: string; apiKey?: never });

export type GatehouseClient = Client<paths>;

/**
 * A typed client for Gatehouse's API (the paths and bodies of its OpenAPI document), authenticated
 * with an API key (`gh_…`, account-scoped machine access) or a user's access token.
 */
export function createGatehouseClient(options: GatehouseClientOptions): GatehouseClient {
  const { baseUrl, apiKey, accessToken, headers, ...rest } = options;
  const credential = apiKey ?? accessToken;
  if (!credential) throw new TypeError("createGatehouseClient needs an apiKey or an accessToken");
  const merged = new Headers(headers as ConstructorParameters<typeof Headers>[0]);
  merged.set("authorization", `Bearer ${credential}`);
  return createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, ""), headers: merged });
}
