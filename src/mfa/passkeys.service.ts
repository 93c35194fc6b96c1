import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import type { AuthService } from "../auth/auth.service.js";
import type { FactorThrottle } from "../auth/factor-throttle.js";
import type { Session } from "../auth/sessions.repository.js";
import type { SessionsService } from "../auth/sessions.service.js";
import { type Db, type Executor, transact } from "../db/database.js";
import { AppError, type ErrorCode, notFound } from "../http/errors.js";
import { addSeconds, type Clock } from "../lib/clock.js";
import { hashToken, safeEqual } from "../lib/crypto.js";
import { newId } from "../lib/ids.js";
import type { User, UsersRepository } from "../users/users.repository.js";
import type { MfaRepository } from "./mfa.repository.js";
import { CHALLENGE_SECONDS, type MfaService } from "./mfa.service.js";
import type { Passkey, PasskeysRepository, WebauthnPurpose } from "./passkeys.repository.js";

export const WEBAUTHN_CHALLENGE_SECONDS = 5 * 60;
export const MAX_PASSKEYS = 20;

/** Transport hints come from the browser: keep a few short strings only. */
function cleanTransports(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is string => typeof t === "string" && /^[a-z-]{1,20}$/.test(t)).slice(0, 8);
}

/** Why a passkey was refused; each is a 400 with its own code. */
class PasskeyRefused extends AppError {}

const refuse = (code: ErrorCode, detail: string) =>
  new PasskeyRefused(code, detail, { errors: [{ path: "response", code, message: detail }] });

const challengeInvalid = () =>
  refuse("passkey_challenge_invalid", "This passkey request expired or was already used. Try again.");

/** A library verification error, told apart: a counter that went back hints at a cloned authenticator. */
function refusalFor(error: unknown): AppError {
  if (error instanceof AppError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/counter value/i.test(message))
    return refuse(
      "passkey_counter_regressed",
      "This passkey's signature counter went back; it may be a copy.",
    );
  if (/challenge/i.test(message)) return challengeInvalid();
  return refuse("passkey_invalid", `The passkey's answer was not accepted: ${message}`);
}

export function createPasskeysService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  rpName?: string;
  users: UsersRepository;
  mfaRepository: MfaRepository;
  mfa: MfaService;
  passkeys: PasskeysRepository;
  sessions: SessionsService;
  factorThrottle: FactorThrottle;
  auth: AuthService;
}) {
  const { db, clock, passkeys, mfaRepository } = deps;
  const url = new URL(deps.publicUrl);
  const rpID = url.hostname;
  const origin = url.origin;
  const now = () => clock.now().toISOString();

  const view = (p: Passkey) => ({
    id: p.factorId,
    label: p.label,
    created_at: p.createdAt,
    last_used_at: p.lastUsedAt,
    backed_up: p.backedUp,
    device_type: p.deviceType,
    transports: p.transports,
  });

  async function storeChallenge(
    purpose: WebauthnPurpose,
    challenge: string,
    bound: { userId?: string; sessionId?: string; mfaChallengeId?: string },
  ): Promise<string> {
    const id = newId("webauthn");
    await passkeys.insertChallenge(db, {
      id,
      purpose,
      userId: bound.userId ?? null,
      sessionId: bound.sessionId ?? null,
      mfaChallengeId: bound.mfaChallengeId ?? null,
      challengeHash: hashToken(challenge),
      expiresAt: addSeconds(clock.now(), WEBAUTHN_CHALLENGE_SECONDS).toISOString(),
      now: now(),
    });
    return id;
  }

  /** The library compares the challenge the browser signed against the stored hash. */
  const matches = (hash: string) => (challenge: string) => safeEqual(hashToken(challenge), hash);

  /** Verifies an assertion for a stored credential; throws a PasskeyRefused with the reason. */
  async function verifyAssertion(
    passkey: Passkey,
    response: AuthenticationResponseJSON,
    challengeHash: string,
    requireUserVerification: boolean,
  ) {
    const userHandle = response.response?.userHandle;
    if (userHandle && userHandle !== Buffer.from(passkey.userId).toString("base64url")) {
      throw refuse("passkey_invalid", "This passkey belongs to another user.");
    }
    try {
      const result = await verifyAuthenticationResponse({
        response,
        expectedChallenge: matches(challengeHash),
        expectedOrigin: origin,
        expectedRPID: rpID,
        credential: {
          id: passkey.credentialId,
          publicKey: Buffer.from(passkey.publicKey, "base64url"),
          counter: passkey.signCount,
          transports: passkey.transports as never,
        },
        requireUserVerification,
      });
      if (!result.verified) throw refuse("passkey_invalid", "The passkey's signature is not valid.");
      return result.authenticationInfo;
    } catch (error) {
      throw refusalFor(error);
    }
  }

  async function recordUse(
    trx: Executor,
    passkey: Passkey,
    info: { newCounter: number; credentialBackedUp: boolean },
  ) {
    const moved = await passkeys.recordUse(trx, {
      factorId: passkey.factorId,
      userId: passkey.userId,
      from: passkey.signCount,
      to: info.newCounter,
      backedUp: info.credentialBackedUp,
      now: now(),
    });
    if (!moved)
      throw refuse("passkey_counter_regressed", "This passkey was used at the same moment elsewhere.");
  }

  async function findOwn(userId: string, id: string): Promise<Passkey> {
    const passkey = await passkeys.find(db, userId, id);
    if (!passkey) throw notFound("Passkey");
    return passkey;
  }

  return {
    async list(userId: string) {
      return { data: (await passkeys.listForUser(db, userId)).map(view) };
    },

    /** Step one of adding a passkey: options for navigator.credentials.create, bound to this session. */
    async registrationOptions(session: Session) {
      deps.sessions.requireFresh(session);
      await deps.mfa.assertMethodAllowed(session.userId, "passkey");
      const user = (await deps.users.findById(db, session.userId)) as User;
      const existing = await passkeys.listForUser(db, user.id);
      if (existing.length >= MAX_PASSKEYS)
        throw new AppError(
          "conflict",
          `You have ${MAX_PASSKEYS} passkeys; remove one before adding another.`,
        );
      const options = await generateRegistrationOptions({
        rpName: deps.rpName ?? "Gatehouse",
        rpID,
        userName: user.email,
        userID: new Uint8Array(Buffer.from(user.id)),
        userDisplayName: `${user.firstName} ${user.lastName}`.trim() || user.email,
        timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
        attestationType: "none",
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
        authenticatorSelection: { residentKey: "required", userVerification: "required" },
      });
      const challengeId = await storeChallenge("register", options.challenge, {
        userId: user.id,
        sessionId: session.id,
      });
      return { challenge_id: challengeId, options };
    },

    /** Step two: verify the new credential and store it as a confirmed "passkey" factor. */
    async register(
      session: Session,
      input: { challengeId: string; label?: string | undefined; response: RegistrationResponseJSON },
      actor: Actor,
    ) {
      deps.sessions.requireFresh(session);
      await deps.mfa.assertMethodAllowed(session.userId, "passkey");
      const challenge = await passkeys.spendChallenge(db, input.challengeId, "register", now(), {
        userId: session.userId,
        sessionId: session.id,
      });
      if (!challenge) throw challengeInvalid();
      let info: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
      try {
        info = await verifyRegistrationResponse({
          response: input.response,
          expectedChallenge: matches(challenge.challenge_hash),
          expectedOrigin: origin,
          expectedRPID: rpID,
          requireUserVerification: true,
        });
      } catch (error) {
        throw refusalFor(error);
      }
      if (!info.verified) throw refuse("passkey_invalid", "The new passkey could not be verified.");
      const { credential, credentialBackedUp, credentialDeviceType, aaguid } = info.registrationInfo;
      if (await passkeys.credentialExists(db, credential.id))
        throw new AppError("conflict", "This passkey is already registered.");
      const factorId = newId("factor");
      const label = input.label?.trim() || "Passkey";
      const codes = await transact(db, async (trx, effects) => {
        await mfaRepository.insert(trx, {
          id: factorId,
          userId: session.userId,
          type: "passkey",
          label,
          secretEnc: null,
          now: now(),
        });
        await passkeys.insert(trx, {
          factorId,
          userId: session.userId,
          credentialId: credential.id,
          publicKey: Buffer.from(credential.publicKey).toString("base64url"),
          signCount: credential.counter,
          transports: cleanTransports(credential.transports ?? input.response.response.transports),
          backedUp: credentialBackedUp,
          deviceType: credentialDeviceType,
          aaguid,
          createdAt: now(),
        });
        return deps.mfa.activateFactor(trx, effects, session, factorId, "passkey", actor);
      });
      return {
        passkey: view((await passkeys.find(db, session.userId, factorId)) as Passkey),
        ...(codes ? { recovery_codes: codes } : {}),
      };
    },

    async rename(session: Session, id: string, label: string, actor: Actor) {
      const passkey = await findOwn(session.userId, id);
      const next = label.trim();
      if (!next) throw new AppError("validation_failed", "Give the passkey a name");
      await transact(db, async (trx) => {
        await passkeys.rename(trx, session.userId, id, next);
        await recordAudit(
          trx,
          actor,
          {
            accountId: session.accountId,
            action: "mfa.passkey_renamed",
            targetType: "mfa_factor",
            targetId: id,
            changes: { label: { from: passkey.label, to: next } },
          },
          clock.now(),
        );
      });
      return view((await passkeys.find(db, session.userId, id)) as Passkey);
    },

    /** Like removing any factor: the password is required (removing the last one turns MFA off). */
    async remove(session: Session, id: string, password: string, actor: Actor) {
      await findOwn(session.userId, id);
      await deps.mfa.removeFactor(session, id, password, actor);
    },

    /**
     * Options for navigator.credentials.get. Without an mfa_token: a passwordless log-in with any
     * discoverable passkey (user verification required). With one: the second step of a password
     * log-in, limited to that user's passkeys.
     */
    async loginOptions(mfaToken?: string) {
      if (mfaToken === undefined) {
        const options = await generateAuthenticationOptions({
          rpID,
          userVerification: "required",
          timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
        });
        return { challenge_id: await storeChallenge("login", options.challenge, {}), options };
      }
      const challenge = await deps.mfa.liveChallenge(db, mfaToken);
      const own = await passkeys.listForUser(db, challenge.user_id);
      if (own.length === 0) throw new AppError("validation_failed", "Passkeys are not set up for this login");
      const options = await generateAuthenticationOptions({
        rpID,
        userVerification: "preferred",
        timeout: Math.min(WEBAUTHN_CHALLENGE_SECONDS, CHALLENGE_SECONDS) * 1000,
        allowCredentials: own.map((p) => ({ id: p.credentialId, transports: p.transports })),
      });
      const challengeId = await storeChallenge("mfa", options.challenge, {
        userId: challenge.user_id,
        mfaChallengeId: challenge.id,
      });
      return { challenge_id: challengeId, options };
    },

    /**
     * "Confirm it's you" with a passkey: options for navigator.credentials.get limited to the session
     * user's passkeys, user verification required, the challenge bound to this session.
     */
    async reauthOptions(session: Session) {
      const own = await passkeys.listForUser(db, session.userId);
      if (own.length === 0)
        throw new AppError("validation_failed", "Passkeys are not set up for your login", {
          errors: [{ path: "method", code: "not_enrolled", message: "This method is not set up" }],
        });
      const options = await generateAuthenticationOptions({
        rpID,
        userVerification: "required",
        timeout: WEBAUTHN_CHALLENGE_SECONDS * 1000,
        allowCredentials: own.map((p) => ({ id: p.credentialId, transports: p.transports })),
      });
      const challengeId = await storeChallenge("reauth", options.challenge, {
        userId: session.userId,
        sessionId: session.id,
      });
      return { challenge_id: challengeId, options };
    },

    /** Verifies the answer to reauthOptions and marks the session fresh, as POST /auth/reauth does. */
    async reauthenticate(
      session: Session,
      input: { challengeId: string; response: AuthenticationResponseJSON },
      actor: Actor,
    ) {
      const guesser = { userId: session.userId, actor, session };
      await deps.factorThrottle.check(guesser);
      // Spent before the check: a refused answer does not leave its challenge open for another try.
      const challenge = await passkeys.spendChallenge(db, input.challengeId, "reauth", now(), {
        userId: session.userId,
        sessionId: session.id,
      });
      if (!challenge) throw challengeInvalid();
      const passkey = await passkeys.findByCredentialId(db, input.response.id);
      let info: Awaited<ReturnType<typeof verifyAssertion>>;
      try {
        if (!passkey || passkey.userId !== session.userId)
          throw refuse("passkey_unknown", "This passkey is not registered for your login.");
        info = await verifyAssertion(passkey, input.response, challenge.challenge_hash, true);
      } catch (error) {
        // A refused answer counts like a wrong code (429 and the session ends when it locks).
        if (error instanceof PasskeyRefused) await deps.factorThrottle.fail(guesser);
        throw error;
      }
      await deps.factorThrottle.succeed(guesser);
      return deps.mfa.markFresh(session, actor, "passkey", (trx) => recordUse(trx, passkey, info));
    },

    /** Completes a passwordless log-in, or with an mfa_token the second step of a password log-in. */
    async login(
      input: { challengeId: string; response: AuthenticationResponseJSON; mfaToken?: string | undefined },
      actor: Actor,
    ) {
      if (input.mfaToken !== undefined) {
        let refusal: AppError | undefined;
        const verifier = async (trx: Executor, mfaChallenge: { id: string; user_id: string }) => {
          try {
            const challenge = await passkeys.spendChallenge(trx, input.challengeId, "mfa", now(), {
              userId: mfaChallenge.user_id,
              mfaChallengeId: mfaChallenge.id,
            });
            if (!challenge) throw challengeInvalid();
            const passkey = await passkeys.findByCredentialId(trx, input.response.id);
            if (!passkey || passkey.userId !== mfaChallenge.user_id)
              throw refuse("passkey_unknown", "This passkey is not registered for this login.");
            const info = await verifyAssertion(passkey, input.response, challenge.challenge_hash, false);
            await recordUse(trx, passkey, info);
            return true;
          } catch (error) {
            if (!(error instanceof PasskeyRefused)) throw error;
            refusal = error;
            return false;
          }
        };
        try {
          return await deps.auth.completeMfaLogin(
            { mfaToken: input.mfaToken, method: "passkey", code: verifier },
            actor,
          );
        } catch (error) {
          // A refused passkey counts as a wrong code on the mfa_token; its reason is the clearer answer.
          if (refusal && error instanceof AppError && error.code === "invalid_code") throw refusal;
          throw error;
        }
      }

      const challenge = await passkeys.spendChallenge(db, input.challengeId, "login", now());
      if (!challenge) throw challengeInvalid();
      const passkey = await passkeys.findByCredentialId(db, input.response.id);
      if (!passkey) throw refuse("passkey_unknown", "This passkey is not registered.");
      let info: Awaited<ReturnType<typeof verifyAssertion>> | undefined;
      return deps.auth.passkeyLogin(
        passkey.userId,
        actor,
        async () => {
          info = await verifyAssertion(passkey, input.response, challenge.challenge_hash, true);
        },
        (trx) => recordUse(trx, passkey, info as NonNullable<typeof info>),
      );
    },
  };
}

export type PasskeysService = ReturnType<typeof createPasskeysService>;
