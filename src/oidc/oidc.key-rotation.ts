import type { FastifyBaseLogger } from "fastify";
import type { Invalidator } from "../auth/session-cache.js";
import type { Db } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { type KeyRotation, rotateSigningKeys } from "./oidc.keys.js";
import { ID_TOKEN_TTL_SECONDS, type OidcProvider } from "./oidc.provider.js";

export const OIDC_KEY_ROTATION_JOB = "oidc-key-rotation";
/** The invalidation message of a change to the signing keys: every process reloads them. */
export const OIDC_KEYS_MESSAGE = "oidc:keys";
/**
 * Publication of a retired key beyond the longest lifetime of a token it signed: a process that had not
 * yet heard of the rotation kept signing with it for a moment (an hour covers a LISTEN connection that
 * was down and came back).
 */
export const RETIRED_KEY_MARGIN_SECONDS = 3600;

/** How long a retired key stays published: until every ID and access token it signed has expired. */
export function retiredKeyPublishSeconds(accessTokenTtl: number): number {
  return Math.max(ID_TOKEN_TTL_SECONDS, accessTokenTtl) + RETIRED_KEY_MARGIN_SECONDS;
}

/**
 * Signing-key rotation: the job makes a new current key once the current one is `rotationDays` old and
 * deletes retired keys whose publication is over; every process then rebuilds its provider with the new
 * key set. The change is announced in the rotating transaction (NOTIFY on PostgreSQL, delivered once it
 * commits); this process swaps before the rotation returns.
 */
export function createOidcKeyRotation(deps: {
  db: Db;
  secretKey: Buffer;
  clock: Clock;
  rotationDays: number;
  accessTokenTtl: number;
  invalidator: Invalidator;
  oidc: OidcProvider;
  log: FastifyBaseLogger;
}) {
  deps.invalidator.onInvalidate((message) => {
    // "*": the process could not listen for a while and may have missed a rotation.
    if (message !== OIDC_KEYS_MESSAGE && message !== "*") return;
    deps.oidc.reload().catch((error: unknown) => {
      deps.log.warn(
        { err: error },
        "reloading the OpenID Connect signing keys failed; the previous ones stay",
      );
    });
  });

  async function rotate(now: Date, rotateBefore: Date): Promise<KeyRotation> {
    const outcome = await rotateSigningKeys(deps.db, deps.secretKey, now, {
      rotateBefore,
      publishSeconds: retiredKeyPublishSeconds(deps.accessTokenTtl),
      changed: (trx) => deps.invalidator.publish(trx, OIDC_KEYS_MESSAGE),
    });
    if (outcome.rotated || outcome.deleted > 0) await deps.oidc.reload();
    return outcome;
  }

  return {
    /** The job: a new key when the current one is old enough; retired keys past their publication go. */
    rotateDue(): Promise<KeyRotation> {
      const now = deps.clock.now();
      return rotate(now, addSeconds(now, -deps.rotationDays * 86_400));
    },
    /** An operator's rotation (`gatehouse oidc keys rotate`): a new current key now, whatever its age. */
    rotateNow(): Promise<KeyRotation> {
      const now = deps.clock.now();
      return rotate(now, now);
    },
  };
}

export type OidcKeyRotation = ReturnType<typeof createOidcKeyRotation>;
