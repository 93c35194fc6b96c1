import { randomBytes } from "node:crypto";
import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit, SYSTEM_ACTOR } from "../audit/audit.repository.js";
import { customDomainsOf } from "../billing/plan-limits.js";
import type { Plan } from "../billing/plans.js";
import type { MailBrandingLoader } from "../branding/mail-branding.js";
import { type Db, type Effects, type Executor, isConcurrentConflict, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, invalidFields, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { RateLimiter } from "../lib/rate-limit.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import { type AccessCache, requirePermission } from "../roles/access.js";
import type { DnsCheck, DnsChecker } from "./dns-check.js";
import type { DomainHosts } from "./domain-hosts.js";
import type { Domain, DomainsRepository } from "./domains.repository.js";
import { domainView } from "./domains.views.js";
import { hostOfHeader, normalizeHostname } from "./hostnames.js";

export const DOMAINS = {
  /** Custom domains an account may list (pending, verified and failed together). */
  perAccount: 20,
  /** Verification requests per account per minute (each is a few DNS queries to someone's servers). */
  verifyRule: { limit: 10, windowSeconds: 60 },
  /** The daily re-check looks again at verified domains checked longer ago than this. */
  recheckAfterSeconds: 86_400,
  /** Domains re-checked per run of the job (the rest wait for the next run). */
  recheckBatch: 200,
};

/**
 * Custom domains of accounts (docs/custom-domains.md): add a host name, publish the TXT and CNAME
 * records it shows, verify; verified domains serve the account's login and app, are re-checked daily,
 * and are what Caddy may get certificates for.
 */
export function createDomainsService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  /** The CNAME target custom domains point at (PUBLIC_HOSTNAME). */
  cnameTarget: string;
  plans: readonly Plan[];
  repository: DomainsRepository;
  hosts: DomainHosts;
  dns: DnsChecker;
  access: AccessCache;
  accounts: Pick<AccountsRepository, "lock" | "findById">;
  rateLimiter: RateLimiter;
  mailQueue: MailQueue;
  mailBranding: MailBrandingLoader;
  events: EventLog;
}) {
  const { db, clock, repository } = deps;
  const publicUrl = new URL(deps.publicUrl);
  const ownHosts = [...new Set([publicUrl.hostname.toLowerCase(), deps.cnameTarget])];
  const now = () => clock.now().toISOString();
  const view = (domain: Domain) => domainView(domain, deps.cnameTarget);

  const requireAccess = async (
    accountId: string,
    principalId: string,
    permission: "account:read" | "account:update",
  ) => requirePermission(await deps.access.get(db, accountId, principalId), permission);

  async function findDomain(executor: Executor, accountId: string, id: string): Promise<Domain> {
    const domain = await repository.find(executor, accountId, id);
    if (!domain) throw notFound("Domain");
    return domain;
  }

  async function requirePlan(executor: Executor, accountId: string) {
    const { planName, allowed } = await customDomainsOf(executor, deps.plans, accountId);
    if (!allowed)
      throw new AppError(
        "plan_limit_reached",
        `Custom domains come with the Team plan and above; this account is on ${planName}. Upgrade the plan to add one.`,
      );
  }

  const audit = (
    trx: Executor,
    actor: Actor,
    domain: Pick<Domain, "id" | "accountId">,
    action: string,
    changes: Record<string, unknown>,
  ) =>
    recordAudit(
      trx,
      actor,
      { accountId: domain.accountId, action, targetType: "domain", targetId: domain.id, changes },
      clock.now(),
    );

  const announce = (
    trx: Executor,
    effects: Effects,
    actor: Actor,
    type: "domain.verified" | "domain.failed",
    domain: Domain,
  ) => deps.events.record(trx, effects, actor, { accountId: domain.accountId, type, data: view(domain) });

  /** The outcome of a check as the row stores it. An unreachable resolver changes no status. */
  function resultOf(domain: Domain, check: DnsCheck, checkedAt: string) {
    if (check.outcome === "ok")
      return {
        status: "verified" as const,
        verifiedAt: domain.status === "verified" ? domain.verifiedAt : checkedAt,
        failureReason: null,
        checkedAt,
      };
    if (check.outcome === "broken")
      return {
        status: "failed" as const,
        verifiedAt: domain.verifiedAt,
        failureReason: check.reason,
        checkedAt,
      };
    return { status: domain.status, verifiedAt: domain.verifiedAt, failureReason: check.reason, checkedAt };
  }

  /**
   * Stores a check's outcome in one transaction with its audit event, `domain.*` event and cache
   * invalidation; a domain that stops being verified mails the account's admins when `mailAdmins`.
   */
  async function applyCheck(
    actor: Actor,
    domain: Domain,
    check: DnsCheck,
    mailAdmins: boolean,
  ): Promise<Domain> {
    const checkedAt = now();
    try {
      return await transact(db, async (trx, effects) => {
        const current = await repository.find(trx, domain.accountId, domain.id);
        if (!current) throw notFound("Domain");
        const result = resultOf(current, check, checkedAt);
        if (result.status === "verified" && current.status !== "verified") {
          const holder = await repository.findVerified(trx, current.hostname);
          if (holder && holder.id !== current.id) throw takenError(current.hostname);
        }
        await repository.recordCheck(trx, current.accountId, current.id, result);
        const after = { ...current, ...result, lastCheckedAt: checkedAt };
        if (result.status === current.status) return after;
        await audit(trx, actor, after, `domain.${result.status}`, {
          hostname: after.hostname,
          ...(result.failureReason ? { reason: result.failureReason } : {}),
        });
        if (result.status === "verified") await announce(trx, effects, actor, "domain.verified", after);
        if (result.status === "failed" && current.status === "verified") {
          await announce(trx, effects, actor, "domain.failed", after);
          if (mailAdmins) await mailBroken(trx, effects, after);
        }
        if (result.status === "verified" || current.status === "verified")
          await deps.hosts.publishChange(trx, effects.afterCommit, after.hostname);
        return after;
      });
    } catch (error) {
      // Two accounts verifying one name at the same moment: the unique index lets one through.
      if (isConcurrentConflict(error)) throw takenError(domain.hostname);
      throw error;
    }
  }

  async function mailBroken(trx: Executor, effects: Effects, domain: Domain) {
    const account = await deps.accounts.findById(trx, domain.accountId);
    const branding = await deps.mailBranding.load(trx, domain.accountId);
    for (const admin of await repository.admins(trx, domain.accountId)) {
      await deps.mailQueue.enqueue(
        trx,
        effects,
        mails.domainFailed(
          admin.email,
          admin.firstName,
          {
            accountName: account?.name ?? domain.accountId,
            hostname: domain.hostname,
            reason: domain.failureReason ?? "",
            // The main address: the broken domain may be the one links would otherwise use.
            url: `${deps.publicUrl}/settings/domains`,
          },
          { branding },
        ),
      );
    }
  }

  const takenError = (hostname: string) =>
    new AppError("conflict", `${hostname} is already verified by another account.`);

  /** `https://<domain>`; in development (PUBLIC_URL on http) http with PUBLIC_URL's port. */
  const baseOf = (hostname: string) =>
    publicUrl.protocol === "https:"
      ? `https://${hostname}`
      : `http://${hostname}${publicUrl.port ? `:${publicUrl.port}` : ""}`;

  return {
    cnameTarget: deps.cnameTarget,
    view,

    /** 201 with the records to publish; 402 below Team; 409 for a name this or another account verified. */
    async create(
      actor: Actor & { id: string },
      accountId: string,
      input: { hostname: string },
    ): Promise<Domain> {
      await requireAccess(accountId, actor.id, "account:update");
      const normalized = normalizeHostname(input.hostname, ownHosts);
      if ("problem" in normalized)
        throw invalidFields([
          { path: "hostname", code: normalized.problem.code, message: normalized.problem.message },
        ]);
      const { hostname } = normalized;
      const id = newId("domain");
      try {
        await transact(db, async (trx) => {
          // Under the account's lock: concurrent additions queue, so none passes the count.
          await deps.accounts.lock(trx, accountId);
          await requirePlan(trx, accountId);
          if (await repository.findByHostname(trx, accountId, hostname))
            throw new AppError("conflict", `${hostname} is already one of this account's domains.`);
          const holder = await repository.findVerified(trx, hostname);
          if (holder) throw takenError(hostname);
          if ((await repository.countOfAccount(trx, accountId)) >= DOMAINS.perAccount)
            throw new AppError(
              "conflict",
              `An account can have at most ${DOMAINS.perAccount} custom domains. Delete one it no longer uses.`,
            );
          const token = randomBytes(18).toString("base64url");
          await repository.insert(trx, { id, accountId, hostname, token }, now());
          await audit(trx, actor, { id, accountId }, "domain.added", { hostname });
        });
      } catch (error) {
        if (isConcurrentConflict(error))
          throw new AppError("conflict", `${hostname} is already one of this account's domains.`);
        throw error;
      }
      return findDomain(db, accountId, id);
    },

    async list(principalId: string, accountId: string): Promise<Domain[]> {
      await requireAccess(accountId, principalId, "account:read");
      return repository.listOfAccount(db, accountId);
    },

    async get(principalId: string, accountId: string, id: string): Promise<Domain> {
      await requireAccess(accountId, principalId, "account:read");
      return findDomain(db, accountId, id);
    },

    async remove(actor: Actor & { id: string }, accountId: string, id: string): Promise<void> {
      await requireAccess(accountId, actor.id, "account:update");
      await transact(db, async (trx, effects) => {
        const domain = await findDomain(trx, accountId, id);
        if (!(await repository.remove(trx, accountId, id))) throw notFound("Domain");
        await audit(trx, actor, domain, "domain.removed", {
          hostname: domain.hostname,
          status: domain.status,
        });
        if (domain.status === "verified")
          await deps.hosts.publishChange(trx, effects.afterCommit, domain.hostname);
      });
    },

    /**
     * Looks the records up now: verified when both are right, failed naming what is missing or wrong;
     * when no resolver answered, the status stays and `failure_reason` says so. 429 past 10 a minute
     * per account; 409 when another account verified the name first; 402 below Team.
     */
    async verify(actor: Actor & { id: string }, accountId: string, id: string): Promise<Domain> {
      await requireAccess(accountId, actor.id, "account:update");
      const domain = await findDomain(db, accountId, id);
      await requirePlan(db, accountId);
      const decision = await deps.rateLimiter.hit(`domain-verify:${accountId}`, DOMAINS.verifyRule);
      if (!decision.allowed)
        throw new AppError(
          "rate_limited",
          "Too many verification attempts for this account; try again in a minute.",
          {
            headers: { "retry-after": String(decision.retryAfterSeconds) },
          },
        );
      const check = await deps.dns.check(domain.hostname, domain.token, deps.cnameTarget);
      return applyCheck(actor, domain, check, false);
    },

    /**
     * The daily re-check (job `domain-recheck`): verified domains whose records broke become failed,
     * with the reason, and the account's Roots and admins get a mail; so do those of accounts whose
     * plan no longer includes custom domains. An unreachable resolver leaves a domain as it is.
     */
    async recheckDue(): Promise<{ checked: number; failed: number }> {
      const before = addSeconds(clock.now(), -DOMAINS.recheckAfterSeconds + 60).toISOString();
      const due = await repository.listDueForRecheck(db, before, DOMAINS.recheckBatch);
      let failed = 0;
      for (const domain of due) {
        const plan = await customDomainsOf(db, deps.plans, domain.accountId);
        const check: DnsCheck = plan.allowed
          ? await deps.dns.check(domain.hostname, domain.token, deps.cnameTarget)
          : { outcome: "broken", reason: `The ${plan.planName} plan does not include custom domains` };
        // A domain deleted meanwhile (404) is simply gone; anything else fails the run.
        const after = await applyCheck(SYSTEM_ACTOR, domain, check, true).catch((error: unknown) => {
          if (error instanceof AppError) return undefined;
          throw error;
        });
        if (after?.status === "failed") failed++;
      }
      return { checked: due.length, failed };
    },

    /** The account whose verified custom domain this Host header names (cached across requests). */
    accountForHost: (host: string | undefined) => deps.hosts.accountForHost(host),

    /**
     * Whether passkeys work on this host: they are bound to PUBLIC_URL's host name (the relying party
     * id), which a browser accepts only there and on names under it — so never on a custom domain.
     */
    passkeysOnHost(host: string | undefined): boolean {
      const hostname = hostOfHeader(host);
      const rpId = publicUrl.hostname.toLowerCase();
      return hostname !== undefined && (hostname === rpId || hostname.endsWith(`.${rpId}`));
    },

    /** The base of links in the account's mails: its first verified custom domain (oldest), if any. */
    async linkBaseFor(executor: Executor, accountId: string): Promise<string | undefined> {
      const first = (await repository.listOfAccount(executor, accountId)).find(
        (d) => d.status === "verified",
      );
      return first && baseOf(first.hostname);
    },

    /**
     * Caddy's on-demand TLS question: PUBLIC_URL's own host name or a verified custom domain (so one
     * catch-all Caddy site serves both). Malformed input is a no.
     */
    async tlsAllowed(domain: string | undefined): Promise<boolean> {
      if (typeof domain !== "string" || domain.length > 300 || /[:/]/.test(domain)) return false;
      if (hostOfHeader(domain) === publicUrl.hostname.toLowerCase()) return true;
      return (await deps.hosts.accountForHost(domain)) !== undefined;
    },

    /** `/.well-known/webauthn`: the verified custom domains as origins. */
    async relatedOrigins(): Promise<string[]> {
      return (await repository.listVerified(db, 1000)).map((d) => baseOf(d.hostname));
    },
  };
}

export type DomainsService = ReturnType<typeof createDomainsService>;
