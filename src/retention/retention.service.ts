import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { PlanId } from "../billing/plans.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import type { StoredEvent } from "../events/events.repository.js";
import { AppError, type FieldError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { type AccessCache, loadAccess, requirePermission } from "../roles/access.js";
import { createAuditPurge } from "./audit-purge.js";
import type { RetentionChoices, RetentionRepository } from "./retention.repository.js";
import {
  AUDIT_LOG_MAX_DAYS,
  type Bounds,
  boundsFor,
  cutoffAt,
  type Days,
  DEFAULT_DAYS,
  daysInEffect,
  type LimitState,
  RETENTION_SETTINGS,
  type RetentionSetting,
  shorter,
  transition,
} from "./retention-limits.js";

/** `PATCH …/data-retention`: absent fields stay; null = keep forever (audit log, where the plan allows). */
export type RetentionPatch = Partial<Record<RetentionSetting, number | null>>;

export type RetentionView = {
  audit_log_days: Days;
  export_files_days: number;
  deleted_member_days: number;
  plan: PlanId;
  bounds: Record<RetentionSetting, Bounds>;
  in_force: Record<
    RetentionSetting,
    { days: Days; effective_from: string; grace_until: string; days_before: Days }
  >;
};

/** Accounts looked at per page of a retention run. */
const ACCOUNTS_PER_PAGE = 200;

/** What each setting is when the account never chose: the plan's audit maximum, 7 and 30 days. */
function chosenDays(choices: RetentionChoices, plan: PlanId): Record<RetentionSetting, Days> {
  return {
    audit_log_days: choices.auditLogDays === "plan" ? AUDIT_LOG_MAX_DAYS[plan] : choices.auditLogDays,
    export_files_days: choices.exportFilesDays ?? DEFAULT_DAYS.export_files_days,
    deleted_member_days: choices.deletedMemberDays ?? DEFAULT_DAYS.deleted_member_days,
  };
}

/** The limit in force: the choice, never longer than the plan allows. */
function targets(choices: RetentionChoices, plan: PlanId): Record<RetentionSetting, Days> {
  const chosen = chosenDays(choices, plan);
  return { ...chosen, audit_log_days: shorter(chosen.audit_log_days, AUDIT_LOG_MAX_DAYS[plan]) };
}

/**
 * What governed before a setting's first recorded limit: the audit log and departed members' data were
 * kept forever (so their first limit is newly introduced and counts from then); export files were
 * always kept for their days.
 */
const initialDays = (setting: RetentionSetting, target: Days): Days =>
  setting === "export_files_days" ? target : null;

function validate(patch: RetentionPatch, bounds: Record<RetentionSetting, Bounds>): FieldError[] {
  const errors: FieldError[] = [];
  for (const setting of RETENTION_SETTINGS) {
    if (!(setting in patch)) continue;
    const value = patch[setting];
    const b = bounds[setting];
    const range = `${b.min}–${b.max} days${b.forever ? ", or null to keep forever" : ""}`;
    if (value === null && !b.forever) {
      errors.push({
        path: `/${setting}`,
        code: "out_of_range",
        message:
          setting === "audit_log_days"
            ? `Keeping the audit log forever needs the Enterprise plan; audit_log_days must be ${range}`
            : `${setting} cannot be kept forever; it must be ${range}`,
      });
    } else if (
      value !== null &&
      value !== undefined &&
      !(Number.isSafeInteger(value) && value >= b.min && value <= b.max)
    ) {
      errors.push({ path: `/${setting}`, code: "out_of_range", message: `${setting} must be ${range}` });
    }
  }
  return errors;
}

export function createRetentionService(deps: {
  db: Db;
  clock: Clock;
  repository: RetentionRepository;
  accounts: Pick<AccountsRepository, "lock">;
  access: AccessCache;
  /** The audit checkpoint key (derived from SECRET_KEY). */
  checkpointKey: Buffer;
}) {
  const { db, clock, repository } = deps;
  const auditPurge = createAuditPurge({ db, repository, checkpointKey: deps.checkpointKey });

  /** The limits in force as they would be after a sync at `now` (nothing written). */
  async function pendingLimits(executor: Executor, accountId: string, now: Date) {
    const plan = await repository.planOf(executor, accountId);
    const choices = await repository.findChoices(executor, accountId);
    const stored = await repository.findLimits(executor, accountId);
    const wanted = targets(choices, plan);
    const limits = {} as Record<RetentionSetting, LimitState>;
    const changed: RetentionSetting[] = [];
    for (const setting of RETENTION_SETTINGS) {
      const next = transition(stored[setting], wanted[setting], now, initialDays(setting, wanted[setting]));
      if (next) changed.push(setting);
      limits[setting] = next ?? (stored[setting] as LimitState);
    }
    return { plan, choices, limits, changed };
  }

  /**
   * Brings the limits in force in line with the choices and the plan (inside the caller's transaction):
   * after a change of either, a lowered limit's clock starts now.
   */
  async function syncLimits(trx: Executor, accountId: string) {
    const state = await pendingLimits(trx, accountId, clock.now());
    for (const setting of state.changed)
      await repository.saveLimit(trx, accountId, setting, state.limits[setting]);
    return state;
  }

  function view(state: Awaited<ReturnType<typeof pendingLimits>>): RetentionView {
    const chosen = chosenDays(state.choices, state.plan);
    const inForce = (s: RetentionSetting) => {
      const l = state.limits[s];
      return { days: l.days, effective_from: l.since, grace_until: l.graceUntil, days_before: l.daysBefore };
    };
    return {
      audit_log_days: chosen.audit_log_days,
      export_files_days: chosen.export_files_days ?? DEFAULT_DAYS.export_files_days,
      deleted_member_days: chosen.deleted_member_days ?? DEFAULT_DAYS.deleted_member_days,
      plan: state.plan,
      bounds: boundsFor(state.plan),
      in_force: {
        audit_log_days: inForce("audit_log_days"),
        export_files_days: inForce("export_files_days"),
        deleted_member_days: inForce("deleted_member_days"),
      },
    };
  }

  /** One account's retention run: limits synced, audit log purged, departed people anonymised. */
  async function runForAccount(accountId: string) {
    const state = await transact(db, async (trx) => {
      await deps.accounts.lock(trx, accountId);
      return syncLimits(trx, accountId);
    });
    const now = clock.now();
    const auditCutoff = cutoffAt(state.limits.audit_log_days, now);
    const auditEvents = auditCutoff ? await auditPurge.purge(accountId, auditCutoff, now) : 0;
    const people = await anonymise(accountId, cutoffAt(state.limits.deleted_member_days, now), now);
    return { auditEvents, ...people };
  }

  async function anonymise(accountId: string, cutoff: Date | null, now: Date) {
    return transact(db, async (trx) => {
      const at = now.toISOString();
      await repository.forgetReturned(trx, accountId);
      await repository.recordUnnoticedDepartures(trx, accountId, at);
      if (!cutoff) return { people: 0, invitations: 0 };
      const departed = await repository.departuresBefore(trx, accountId, cutoff.toISOString());
      const invitations = await repository.endedInvitations(trx, accountId, cutoff.toISOString(), departed);
      await repository.anonymiseInvitations(trx, accountId, invitations, at);
      await repository.erasePersonal(trx, accountId, [...departed, ...invitations]);
      await repository.scrubEventCopies(trx, accountId, [...departed, ...invitations]);
      await repository.markAnonymised(trx, accountId, departed, at);
      return { people: departed.length, invitations: invitations.length };
    });
  }

  return {
    syncLimits,

    async get(actor: Actor & { id: string }, accountId: string): Promise<RetentionView> {
      // Every member may know how long the account keeps data about them (see docs/api-data.md).
      requirePermission(await deps.access.get(db, accountId, actor.id), "account:read");
      return view(await pendingLimits(db, accountId, clock.now()));
    },

    async update(
      actor: Actor & { id: string },
      accountId: string,
      patch: RetentionPatch,
    ): Promise<RetentionView> {
      requirePermission(await deps.access.get(db, accountId, actor.id), "account:update");
      return transact(db, async (trx) => {
        requirePermission(await loadAccess(trx, accountId, actor.id), "account:update");
        if (!(await repository.accountExists(trx, accountId))) throw notFound("Account");
        await deps.accounts.lock(trx, accountId);
        const plan = await repository.planOf(trx, accountId);
        const errors = validate(patch, boundsFor(plan));
        if (errors.length > 0)
          throw new AppError("out_of_range", errors.map((e) => e.message).join(". "), { errors });
        const before = await repository.findChoices(trx, accountId);
        const next: RetentionChoices = {
          auditLogDays: "audit_log_days" in patch ? (patch.audit_log_days ?? null) : before.auditLogDays,
          exportFilesDays: patch.export_files_days ?? before.exportFilesDays,
          deletedMemberDays: patch.deleted_member_days ?? before.deletedMemberDays,
        };
        const was = chosenDays(before, plan);
        const after = chosenDays(next, plan);
        // Choosing the plan's maximum explicitly pins it (it no longer follows the plan): a change too.
        const pinned = (s: RetentionSetting) => s === "audit_log_days" && before.auditLogDays === "plan";
        const changed = RETENTION_SETTINGS.filter((s) => s in patch && (was[s] !== after[s] || pinned(s)));
        const changes = Object.fromEntries(changed.map((s) => [s, { from: was[s], to: after[s] }]));
        if (Object.keys(changes).length > 0) {
          await repository.saveChoices(trx, accountId, next, clock.now().toISOString());
          await recordAudit(
            trx,
            actor,
            {
              accountId,
              action: "data_retention.updated",
              targetType: "account",
              targetId: accountId,
              changes,
            },
            clock.now(),
          );
        }
        return view(await syncLimits(trx, accountId));
      });
    },

    /** Days the account's export files are kept now (a lowered value applies once its own days have passed). */
    async exportFilesDays(accountId: string, executor: Executor = db): Promise<number> {
      const state = await pendingLimits(executor, accountId, clock.now());
      return daysInEffect(state.limits.export_files_days, clock.now()) ?? DEFAULT_DAYS.export_files_days;
    },

    /** Someone left the account (inside the change's transaction): anonymised `deleted_member_days` later. */
    recordDeparture: (trx: Executor, accountId: string, userId: string) =>
      repository.recordDeparture(trx, accountId, userId, clock.now().toISOString()),

    /** Event consumer: every `member.removed` starts the departed person's clock. */
    async consumeEvents(trx: Trx, _effects: Effects, events: readonly StoredEvent[]): Promise<void> {
      for (const event of events) {
        const userId = event.type === "member.removed" ? event.data.user_id : undefined;
        if (typeof userId === "string")
          await repository.recordDeparture(trx, event.accountId, userId, event.occurredAt);
      }
    },

    runForAccount,

    /**
     * The `data-retention` job: every account, one after another. An account whose run fails (its audit
     * chain does not verify, say) does not hold up the others; the run then fails naming it, so the job
     * shows the failure and retries.
     */
    async runDue() {
      const totals = { accounts: 0, audit_events: 0, people: 0, invitations: 0 };
      const failures: string[] = [];
      let after = "";
      for (;;) {
        const ids = await repository.accountIds(db, after, ACCOUNTS_PER_PAGE);
        for (const id of ids) {
          try {
            const done = await runForAccount(id);
            totals.accounts += 1;
            totals.audit_events += done.auditEvents;
            totals.people += done.people;
            totals.invitations += done.invitations;
          } catch (error) {
            failures.push(error instanceof Error ? error.message : String(error));
          }
        }
        const last = ids.at(-1);
        if (!last || ids.length < ACCOUNTS_PER_PAGE) break;
        after = last;
      }
      if (failures.length > 0)
        throw new Error(
          `retention failed for ${failures.length} account${failures.length === 1 ? "" : "s"} (${JSON.stringify(totals)} done): ${failures.join("; ")}`,
        );
      return totals;
    },
  };
}

export type RetentionService = ReturnType<typeof createRetentionService>;
