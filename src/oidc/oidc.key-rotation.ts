import type { FastifyBaseLogger } from "fastify";
import type { Invalidator } from "../auth/session-cache.js";
import type { Db, Trx } from "../db/database.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { type KeyRotation, rotateSigningKeys } from "./oidc.keys.js";
import { ID_TOKEN_TTL_SECONDS, type OidcProvider } from "./oidc.provider.js";

export const OIDC_KEY_ROTATION_JOB = "oidc-key-rotation";
/** The invalidation message of a change to the signing keys: every process reloads them. */
export const OIDC_KEYS_MESSAGE = "oidc:keys";
/**
 * Publication of a retired key beyond the longest lifetime of a token it signed: a process that had not
 * yet heard of the rotation kept signing with it for a while. An hour covers a process whose LISTEN
 * connection was down (it reloads when it listens again) and, on SQLite, a rotation made by the CLI
 * (the server's hourly job run reloads the keys).
 */
const RETIRED_KEY_MARGIN_SECONDS = 3600;

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

  const publishSeconds = retiredKeyPublishSeconds(deps.accessTokenTtl);

  // This process swaps before the rotation returns; the others when the message reaches them.
  async function rotate(
    now: Date,
    rotateBefore: Date,
    record?: (trx: Trx, rotation: KeyRotation) => Promise<void>,
  ): Promise<KeyRotation> {
    const outcome = await rotateSigningKeys(deps.db, deps.secretKey, now, {
      rotateBefore,
      publishSeconds,
      changed: async (trx, rotation) => {
        await deps.invalidator.publish(trx, OIDC_KEYS_MESSAGE);
        await record?.(trx, rotation);
      },
    });
    await deps.oidc.reload();
    return outcome;
  }

  return {
    /** How long a retired key stays published. */
    publishSeconds,
    /**
     * The job: a new key when the current one is old enough; retired keys past their publication go.
     * It reloads the keys whatever it did: on SQLite nothing carries a rotation made by the CLI (a
     * process of its own) to the server, so the server's next run (within the hour, which the margin
     * covers) picks it up.
     */
    rotateDue(): Promise<KeyRotation> {
      const now = deps.clock.now();
      return rotate(now, addSeconds(now, -deps.rotationDays * 86_400));
    },
    /**
     * An operator's rotation (`gatehouse oidc keys rotate`): a new current key now, whatever its age;
     * `record` runs in its transaction (the audit event).
     */
    rotateNow(record: (trx: Trx, rotation: KeyRotation) => Promise<void>): Promise<KeyRotation> {
      const now = deps.clock.now();
      return rotate(now, now, record);
    },
  };
}

export type OidcKeyRotation = ReturnType<typeof createOidcKeyRotation>;
