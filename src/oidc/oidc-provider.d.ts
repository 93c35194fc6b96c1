// oidc-provider ships no types (and @types/oidc-provider lags its majors): the few parts Gatehouse uses.
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http";

  export type AdapterPayload = {
    grantId?: string;
    uid?: string;
    userCode?: string;
    consumed?: number;
    [key: string]: unknown;
  };
  export interface Adapter {
    upsert(id: string, payload: AdapterPayload, expiresIn: number): Promise<void>;
    find(id: string): Promise<AdapterPayload | undefined>;
    findByUid(uid: string): Promise<AdapterPayload | undefined>;
    findByUserCode(userCode: string): Promise<AdapterPayload | undefined>;
    consume(id: string): Promise<void>;
    destroy(id: string): Promise<void>;
    revokeByGrantId(grantId: string): Promise<void>;
  }

  // biome-ignore lint/suspicious/noExplicitAny: oidc-provider's configuration and context are untyped JavaScript
  export type Configuration = Record<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  export type KoaContextWithOIDC = any;

  export type InteractionModel = {
    uid: string;
    exp: number;
    returnTo: string;
    prompt: { name: string; reasons: string[]; details: Record<string, unknown> };
    params: Record<string, unknown> & { client_id: string; scope?: string };
    session?: { accountId?: string; uid?: string };
    grantId?: string;
    lastSubmission?: Record<string, unknown>;
    result?: Record<string, unknown>;
    save(ttl: number): Promise<string>;
    destroy(): Promise<void>;
  };
  export type GrantModel = {
    jti: string;
    accountId: string;
    clientId: string;
    addOIDCScope(scope: string): void;
    addResourceScope(indicator: string, scope: string): void;
    getOIDCScope(): string;
    save(): Promise<string>;
  };

  export class Provider {
    constructor(issuer: string, configuration: Configuration);
    proxy: boolean;
    maxIpsCount: number;
    issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (...args: unknown[]) => void): this;
    /** Koa middleware around every endpoint (before the route's own, and after it answered). */
    use(middleware: (ctx: KoaContextWithOIDC, next: () => Promise<void>) => Promise<void>): this;
    Interaction: { find(uid: string): Promise<InteractionModel | undefined> };
    Grant: (new (init: {
      accountId: string;
      clientId: string;
    }) => GrantModel) & {
      find(id: string): Promise<GrantModel | undefined>;
    };
    Session: { findByUid(uid: string): Promise<{ accountId?: string } | undefined> };
    Client: { find(id: string): Promise<Record<string, unknown> | undefined> };
  }
  export default Provider;
  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    SessionNotFound: new (description?: string) => Error;
  };
  export const interactionPolicy: {
    base(): unknown;
    Check: unknown;
    Prompt: unknown;
  };
}
