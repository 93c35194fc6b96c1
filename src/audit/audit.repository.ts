import type { Executor } from "../db/database.js";
import { newId } from "../lib/ids.js";

/** Who did it and from where; taken from the request and carried into every audit event. */
export type Actor = {
  type: "user" | "system" | "api_key";
  id: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
};

export type AuditEvent = {
  accountId: string | null;
  action: string;
  targetType?: string;
  targetId?: string;
  /** Changed fields — names and non-secret values only. */
  changes?: Record<string, unknown>;
};

export const SYSTEM_ACTOR: Actor = { type: "system", id: null, ip: null, userAgent: null, requestId: null };

export async function recordAudit(db: Executor, actor: Actor, event: AuditEvent, at: Date): Promise<void> {
  await db
    .insertInto("audit_events")
    .values({
      id: newId("event"),
      account_id: event.accountId,
      actor_type: actor.type,
      actor_id: actor.id,
      action: event.action,
      target_type: event.targetType ?? null,
      target_id: event.targetId ?? null,
      changes: event.changes ? JSON.stringify(event.changes) : null,
      ip: actor.ip,
      user_agent: actor.userAgent?.slice(0, 512) ?? null,
      request_id: actor.requestId,
      created_at: at.toISOString(),
    })
    .execute();
}

export async function listAuditForUser(db: Executor, userId: string, limit = 50) {
  return db
    .selectFrom("audit_events")
    .select(["id", "action", "account_id", "target_id", "created_at", "ip"])
    .where("actor_id", "=", userId)
    .orderBy("created_at", "desc")
    .limit(limit)
    .execute();
}
