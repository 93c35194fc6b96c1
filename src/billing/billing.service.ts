import type { Actor } from "../audit/audit.repository.js";
import type { Db, Effects, Executor } from "../db/database.js";
import type { Clock } from "../lib/clock.js";
import type { Plan } from "./plans.js";

/**
 * Subscriptions, proration and renewals. (Being built: the seat hook below is the contract the
 * invitation and member paths call; it is a no-op until paid plans exist.)
 */
export function createBillingService(deps: { db: Db; clock: Clock; plans: readonly Plan[] }) {
  return {
    plans: deps.plans,
    /**
     * Called inside the transaction (holding the account lock) of anything that may have raised the
     * account's seats in use. On a paid plan, seats above the period's billed seats are charged pro rata
     * at once and become billed.
     */
    async seatsChanged(
      _trx: Executor,
      _effects: Effects,
      _accountId: string,
      _actor: Actor,
    ): Promise<void> {},
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
