import { sql } from "kysely";
import type { AccountsService } from "../accounts/accounts.service.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Effects, type Executor, type Trx, transact } from "../db/database.js";
import { AppError, type FieldError, invalidFields } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MaybePromise } from "../lib/maybe-async.js";
import type { MailLimits } from "../mail/mail-limits.js";
import type { MailQueue } from "../mail/mail-queue.js";
import { mails } from "../mail/templates.js";
import type { User, UsersRepository } from "../users/users.repository.js";
import type { Me } from "../users/users.service.js";
import { splitName } from "./auth.service.js";
import type { EmailTokensRepository } from "./email-tokens.repository.js";
import { checkPassword, passwordPolicyError, strictestPolicy } from "./password-policy.js";
import type { PasswordHasher } from "./passwords.js";

export type SignupInput = { email: string; password: string; name: string; accountName: string };

/** The sign-up form's order, which its problems are listed in. */
const FIELD_ORDER = ["email", "name", "account_name", "password"];
const fieldOrder = (path: string) => {
  const index = FIELD_ORDER.indexOf(path.split(".")[0] ?? "");
  return index < 0 ? FIELD_ORDER.length : index;
};

/** Sign-up and the verification of the address it gives. */
export function createSignupService(deps: {
  db: Db;
  clock: Clock;
  publicUrl: string;
  hasher: PasswordHasher;
  mailQueue: MailQueue;
  mailLimits: MailLimits;
  users: UsersRepository;
  /** The profile as `GET /me` shows it, read through `executor`. */
  me: (userId: string, executor?: Executor) => MaybePromise<Me>;
  accountsService: AccountsService;
  emailTokens: EmailTokensRepository;
}) {
  const { db, clock, hasher, users, emailTokens } = deps;
  const link = (token: string) => `${deps.publicUrl}/verify-email?token=${encodeURIComponent(token)}`;

  /** A verification link, when the mail limits allow one (silently nothing otherwise: the old link stays). */
  async function sendVerification(
    user: Pick<User, "id" | "email" | "firstName">,
    executor: Executor,
    effects: Effects,
    ip: string | null,
  ) {
    if (!(await deps.mailLimits.allow(executor, user.email, ip, "verify_email"))) return;
    const token = await emailTokens.issue(executor, user.id, "verify_email", clock.now());
    await deps.mailQueue.enqueue(
      executor,
      effects,
      mails.verifyEmail(user.email, user.firstName, link(token)),
    );
  }

  type SignupFields = {
    email: string;
    firstName: string;
    lastName: string;
    passwordHash: string;
    accountName: string;
  };

  /** Everything a sign-up writes: the user, their account with its Root, the audit event. */
  async function createUserWithAccount(trx: Trx, fields: SignupFields, actor: Actor) {
    const now = clock.now().toISOString();
    const userId = newId("user");
    await users.insert(trx, {
      id: userId,
      email: fields.email,
      passwordHash: fields.passwordHash,
      firstName: fields.firstName,
      lastName: fields.lastName,
      emailVerifiedAt: null,
      now,
    });
    await users.addPasswordHistory(trx, { id: newId("history"), userId, hash: fields.passwordHash, now });
    const accountId = await deps.accountsService.createWithRoot(trx, {
      name: fields.accountName,
      ownerId: userId,
      actor: { ...actor, type: "user", id: userId },
    });
    await users.update(trx, userId, { lastAccountId: accountId }, now);
    await recordAudit(
      trx,
      { ...actor, type: "user", id: userId },
      { accountId, action: "user.signed_up", targetType: "user", targetId: userId },
      clock.now(),
    );
    return { userId, accountId };
  }

  /**
   * A sign-up with an address that already has a login answers like any other and costs the same: the
   * same writes are made for a stand-in and rolled back to a savepoint (the transaction still commits,
   * as a real sign-up's does), the answer is read from them, and the owner is told by mail instead.
   */
  async function signupWithTakenAddress(owner: User, fields: SignupFields, actor: Actor) {
    return transact(db, async (trx, effects) => {
      const allowed = await deps.mailLimits.allow(trx, owner.email, actor.ip, "signup_attempt");
      await sql`savepoint signup_stand_in`.execute(trx);
      const standIn = await createUserWithAccount(
        trx,
        { ...fields, email: `${newId("user").toLowerCase()}@stand-in.invalid` },
        actor,
      );
      if (allowed) await emailTokens.issue(trx, standIn.userId, "verify_email", clock.now());
      const me = await deps.me(standIn.userId, trx);
      await sql`rollback to savepoint signup_stand_in`.execute(trx);
      // After the rollback to the savepoint: this mail row stays, as the verification mail does above.
      if (allowed) {
        await deps.mailQueue.enqueue(
          trx,
          effects,
          mails.signupAttempt(owner.email, owner.firstName, `${deps.publicUrl}/login`),
        );
      }
      return { me: { ...me, user: { ...me.user, email: fields.email } }, accountId: standIn.accountId };
    });
  }

  /** What the service itself finds wrong with the fields, leaving out those in `skip`. */
  async function problemsWith(input: Partial<SignupInput>, skip: ReadonlySet<string>): Promise<FieldError[]> {
    const problems: FieldError[] = [];
    // The schema refuses an empty name; one of spaces only is as empty.
    if (input.name !== undefined && !input.name.trim() && !skip.has("name"))
      problems.push({ path: "name", code: "too_short", message: "Enter a name" });
    if (input.accountName !== undefined && !input.accountName.trim() && !skip.has("account_name"))
      problems.push({ path: "account_name", code: "too_short", message: "Enter an account name" });
    if (input.password && !skip.has("password")) {
      const { firstName, lastName } = splitName(input.name ?? "");
      const person = {
        email: (input.email ?? "").trim(),
        firstName,
        lastName,
        accountNames: input.accountName ? [input.accountName] : [],
      };
      problems.push(...(await checkPassword(input.password, strictestPolicy([]), person)));
    }
    return problems;
  }

  /**
   * Every field problem of a sign-up in one answer: `found` (the HTTP schema's findings) and the
   * service's own, so that a form learns all it must fix at once. A refused password alone is 422
   * `password_policy`, as ever; with other problems, everything is 400 `validation_failed`.
   */
  async function refusal(input: Partial<SignupInput>, found: readonly FieldError[]) {
    const own = await problemsWith(input, new Set(found.map((e) => e.path)));
    const all = [...found, ...own].sort((a, b) => fieldOrder(a.path) - fieldOrder(b.path));
    if (all.length === 0) return undefined;
    if (found.length === 0 && own.every((e) => e.path === "password")) return passwordPolicyError(own);
    return invalidFields(all);
  }

  return {
    refusal,

    /**
     * The same work, answer and mail count whether or not the address is taken (see
     * `signupWithTakenAddress`): the caller learns nothing about who already has a login.
     */
    async signup(input: SignupInput, actor: Actor): Promise<{ me: Me; accountId: string }> {
      const refused = await refusal(input, []);
      if (refused) throw refused;
      const { firstName, lastName } = splitName(input.name);
      const email = input.email.trim();

      const passwordHash = await hasher.hash(input.password);
      const fields = { email, firstName, lastName, passwordHash, accountName: input.accountName.trim() };
      const owner = await users.findByEmail(db, email);
      if (owner) return signupWithTakenAddress(owner, fields, actor);
      try {
        return await transact(db, async (trx, effects) => {
          const { userId, accountId } = await createUserWithAccount(trx, fields, actor);
          await sendVerification({ id: userId, email, firstName }, trx, effects, actor.ip);
          return { me: await deps.me(userId, trx), accountId };
        });
      } catch (error) {
        // Two sign-ups racing for one email: the loser gets the same answer as a taken address.
        const winner = await users.findByEmail(db, email);
        if (winner) return signupWithTakenAddress(winner, fields, actor);
        throw error;
      }
    },

    async verifyEmail(token: string, actor: Actor): Promise<void> {
      await transact(db, async (trx) => {
        const userId = await emailTokens.consume(trx, token, "verify_email", clock.now());
        if (!userId)
          throw new AppError("invalid_token", "This verification link is invalid, used or expired.");
        const now = clock.now().toISOString();
        await users.update(trx, userId, { emailVerifiedAt: now }, now);
        const user = (await users.findById(trx, userId)) as User;
        await recordAudit(
          trx,
          { ...actor, type: "user", id: userId },
          {
            accountId: user.lastAccountId,
            action: "user.email_verified",
            targetType: "user",
            targetId: userId,
          },
          clock.now(),
        );
      });
    },

    async resendVerification(userId: string, actor: Actor): Promise<void> {
      await transact(db, async (trx, effects) => {
        const user = await users.findById(trx, userId);
        if (!user || user.emailVerifiedAt) return;
        await sendVerification(user, trx, effects, actor.ip);
      });
    },
  };
}

export type SignupService = ReturnType<typeof createSignupService>;
