import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import { importJWK, type JWK, SignJWT } from "jose";
import type { Invalidator } from "../auth/session-cache.js";
import type { Db } from "../db/database.js";
import type { OutboundHttp } from "../lib/outbound-http.js";
import { SIGNING_ALG } from "./oidc.keys.js";
import { OIDC_MOUNT } from "./oidc.provider.js";

export const BACKCHANNEL_LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0): when the Gatehouse session an
 * authorization was made in ends — logout, revocation, password reset, an admin ending it — or the user
 * is no longer an active member of the account it was made for (suspension, removal), every client that
 * received tokens from it is told with a signed logout token, and the authorization's grant (refresh
 * tokens, codes) and the provider's session are deleted.
 *
 * Triggered by the session invalidation every revocation already publishes (in this process and, through
 * LISTEN/NOTIFY, in the others): each process looks at that user's authorizations; the one that deletes a
 * row is the one that sends its logout token, so a client is told once.
 */
export function createBackchannelLogout(deps: {
  db: Db;
  /**
   * The key this process's provider signs ID tokens with, which its JWKS publishes (the database's
   * newest key may not be published everywhere yet, in the moment after a rotation).
   */
  signingKey: () => JWK;
  publicUrl: string;
  outbound: OutboundHttp;
  invalidator: Invalidator;
  now: () => Date;
  log: FastifyBaseLogger;
}) {
  const issuer = `${deps.publicUrl}${OIDC_MOUNT}`;
  const running = new Map<string, Promise<number>>();

  /** The user's authorizations whose Gatehouse session ended or whose account membership is not active. */
  async function endedAuthorizations(userId: string) {
    const now = deps.now().toISOString();
    return deps.db
      .selectFrom("oidc_authorizations as a")
      .innerJoin("oidc_clients as c", "c.client_id", "a.client_id")
      .leftJoin("sessions as s", "s.id", "a.session_id")
      .leftJoin("memberships as m", (join) =>
        join.onRef("m.account_id", "=", "a.account_id").onRef("m.user_id", "=", "a.user_id"),
      )
      .select(["a.grant_id", "a.client_id", "a.user_id", "a.sid", "c.backchannel_logout_uri"])
      .where("a.user_id", "=", userId)
      .where((eb) =>
        eb.or([
          eb.and([eb("a.session_id", "is not", null), eb("s.id", "is", null)]),
          eb("s.revoked_at", "is not", null),
          eb("s.expires_at", "<=", now),
          eb.and([eb("a.account_id", "is not", null), eb("m.id", "is", null)]),
          eb.and([eb("m.id", "is not", null), eb("m.status", "!=", "active")]),
        ]),
      )
      .execute();
  }

  async function logoutToken(clientId: string, userId: string, sid: string | null): Promise<string> {
    const current = deps.signingKey();
    const key = await importJWK(current, SIGNING_ALG);
    return new SignJWT({
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
      ...(sid ? { sid } : {}),
    })
      .setProtectedHeader({
        alg: SIGNING_ALG,
        typ: "logout+jwt",
        ...(current.kid ? { kid: current.kid } : {}),
      })
      .setIssuer(issuer)
      .setAudience(clientId)
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime("2m")
      .setJti(randomUUID())
      .sign(key);
  }

  /** Ends what ended for `userId`; answers how many authorizations it ended. */
  async function sweep(userId: string): Promise<number> {
    let ended = 0;
    for (const row of await endedAuthorizations(userId)) {
      // Claimed by deleting it: another process sweeping the same user skips a row it no longer finds.
      const claimed = await deps.db.transaction().execute(async (trx) => {
        const deleted = await trx
          .deleteFrom("oidc_authorizations")
          .where("grant_id", "=", row.grant_id)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return false;
        await trx
          .deleteFrom("oidc_payloads")
          .where((eb) =>
            eb.or([
              eb("grant_id", "=", row.grant_id),
              eb.and([eb("kind", "=", "Grant"), eb("id", "=", row.grant_id)]),
            ]),
          )
          .execute();
        if (row.sid)
          await trx
            .deleteFrom("oidc_payloads")
            .where("kind", "=", "Session")
            .where("uid", "=", row.sid)
            .execute();
        return true;
      });
      if (!claimed) continue;
      ended++;
      if (!row.backchannel_logout_uri) continue;
      const token = await logoutToken(row.client_id, row.user_id, row.sid);
      const answer = await deps.outbound.post(row.backchannel_logout_uri, {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ logout_token: token }).toString(),
        timeoutMs: 5000,
        maxResponseBytes: 2048,
      });
      if (answer.status === null || answer.status >= 400)
        deps.log.warn(
          { clientId: row.client_id, status: answer.status, error: answer.error },
          "back-channel logout was not accepted",
        );
    }
    return ended;
  }

  /** One sweep per user at a time; a sweep asked for while one runs runs again after it. */
  function schedule(userId: string): Promise<number> {
    const previous = running.get(userId) ?? Promise.resolve(0);
    const next = previous
      .catch(() => 0)
      .then(() => sweep(userId))
      .catch((error: unknown) => {
        deps.log.error({ err: error, userId }, "back-channel logout failed");
        return 0;
      })
      .finally(() => {
        if (running.get(userId) === next) running.delete(userId);
      });
    running.set(userId, next);
    return next;
  }

  deps.invalidator.onInvalidate((message) => {
    // A bare user id: that user's sessions changed (revoked, ended, re-scoped).
    if (message.includes(":") || message === "*") return;
    void schedule(message);
  });

  return {
    sweep: schedule,
    /** Tests: waits for every sweep started so far. */
    idle: async () => {
      while (running.size > 0) await Promise.all([...running.values()]);
    },
  };
}

export type BackchannelLogout = ReturnType<typeof createBackchannelLogout>;
