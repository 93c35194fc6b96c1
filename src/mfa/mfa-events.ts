import type { AccountsRepository } from "../accounts/accounts.repository.js";
import type { Actor } from "../audit/audit.repository.js";
import type { Effects, Executor } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import type { MemberRecord, MembersRepository } from "../members/members.repository.js";
import { memberView } from "../members/members.views.js";

/**
 * `security.mfa_enabled` / `security.mfa_disabled`. A second factor belongs to a login, which every
 * account its owner is an active member of relies on: each of those accounts hears it, with the member
 * as that account shows them (so `mfa_enabled` is already the new state).
 */
export function createMfaEvents(deps: {
  accounts: Pick<AccountsRepository, "membershipsOfUser">;
  members: Pick<MembersRepository, "find">;
  events: Pick<EventLog, "record">;
}) {
  async function announce(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    userId: string,
    type: "security.mfa_enabled" | "security.mfa_disabled",
    extra: Record<string, unknown>,
  ) {
    for (const membership of await deps.accounts.membershipsOfUser(trx, userId)) {
      if (membership.status !== "active") continue;
      const member = (await deps.members.find(trx, membership.accountId, userId)) as MemberRecord;
      await deps.events.record(trx, effects, actor, {
        accountId: membership.accountId,
        type,
        data: { ...memberView(member), ...extra },
      });
    }
  }

  return {
    /** The user's first factor was confirmed; `method` is its kind (totp, email, sms, passkey). */
    enabled: (trx: Executor, effects: Effects, actor: Actor, userId: string, method: string) =>
      announce(trx, effects, actor, userId, "security.mfa_enabled", { method }),
    /** Their last factor went: removed by them (`by: "user"`), or reset by an admin (`by: "admin"`). */
    disabled: (trx: Executor, effects: Effects, actor: Actor, userId: string, by: "user" | "admin") =>
      announce(trx, effects, actor, userId, "security.mfa_disabled", { disabled_by: by }),
  };
}

export type MfaEvents = ReturnType<typeof createMfaEvents>;
