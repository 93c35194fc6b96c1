import type { Authentication, GatehouseAuth } from "./auth.js";

type Bound = { auth: GatehouseAuth; authentication: Extract<Authentication, { kind: "ok" }> };
const bound = new WeakMap<object, Bound>();

export function bindRequest(request: object, value: Bound): void {
  bound.set(request, value);
}

export type GuardAnswer = { status: 200 } | { status: 401 | 403; body: Problem };

export type Problem = { type: string; title: string; status: number; code: string; detail: string };

export function problem(status: 401 | 403, code: string, detail: string): Problem {
  return { type: "about:blank", title: status === 401 ? "Unauthorized" : "Forbidden", status, code, detail };
}

/** 401 without a caller, 403 without the permission (in the active account), else 200. */
export async function guard(request: object, permission: string): Promise<GuardAnswer> {
  const found = bound.get(request);
  if (!found) return { status: 401, body: problem(401, "unauthorized", "Sign in with Gatehouse first.") };
  if (await found.auth.can(found.authentication, permission)) return { status: 200 };
  return { status: 403, body: problem(403, "forbidden", `This needs the permission ${permission}.`) };
}
