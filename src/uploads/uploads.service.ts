import type { FastifyBaseLogger } from "fastify";
import type { Account, AccountsRepository } from "../accounts/accounts.repository.js";
import { accountView } from "../accounts/accounts.views.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Executor, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import type { Permission } from "../roles/permissions.js";
import type { FileStorage } from "../storage/storage.js";
import type { StoredFilesRepository } from "../storage/stored-files.repository.js";
import type { UsersRepository } from "../users/users.repository.js";
import { type ImageVariant, processImage } from "./images.js";

/**
 * Uploaded images: an account's logo and a person's avatar. The new files are stored first, then one
 * transaction points the account (or user) at them, records them in `stored_files` with its audit
 * event; the files they replace are deleted once that has committed. A failed transaction deletes
 * the files it stored, so storage holds only what some row names (or, after a crash between the two
 * steps, an unnamed file nobody can find the key of).
 */
export function createUploadsService(deps: {
  db: Db;
  clock: Clock;
  log: FastifyBaseLogger;
  storage: FileStorage;
  files: StoredFilesRepository;
  accounts: AccountsRepository;
  users: UsersRepository;
  requirePermission: (
    db: Executor,
    principalId: string,
    accountId: string,
    permission: Permission,
  ) => Promise<unknown>;
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, log, storage, files, accounts, users, events } = deps;

  async function store(variants: ImageVariant[]) {
    for (const v of variants) await storage.put(v.key, v.body, v.contentType);
  }

  /** Deleting is tidying up: a failure leaves a file nobody points at, logged, never a failed request. */
  async function discard(keys: Array<string | null>) {
    for (const key of keys) {
      if (!key) continue;
      await storage
        .delete(key)
        .catch((error: unknown) => log.warn({ err: error, key }, "could not delete a stored file"));
    }
  }

  /** Stores `variants`, runs `work`; on failure deletes what was stored and `keep` does not hold. */
  async function withStored<T>(
    variants: ImageVariant[],
    keep: () => Array<string | null>,
    work: () => Promise<T>,
  ) {
    await store(variants);
    try {
      return await work();
    } catch (error) {
      const kept = new Set(keep());
      await discard(variants.map((v) => v.key).filter((k) => !kept.has(k)));
      throw error;
    }
  }

  async function announceLogo(
    trx: Executor,
    effects: Parameters<Parameters<typeof transact>[1]>[1],
    actor: Actor,
    before: Account,
    accountId: string,
  ) {
    const after = accountView((await accounts.findById(trx, accountId)) as Account);
    const changed = (["logo_url", "logo_thumb_url"] as const).filter(
      (k) => accountView(before)[k] !== after[k],
    );
    if (changed.length)
      await events.record(trx, effects, actor, {
        accountId,
        type: "account.updated",
        data: { ...after, changed },
      });
  }

  return {
    /** PUT /accounts/{id}/logo: `read` gives the upload's bytes, once the caller may change the logo. */
    async setLogo(
      actor: Actor & { id: string },
      accountId: string,
      read: () => Promise<Buffer>,
    ): Promise<Account> {
      await deps.requirePermission(db, actor.id, accountId, "account:update");
      const variants = await processImage(await read(), "logo", accountId);
      const [large, small] = variants as [ImageVariant, ImageVariant];
      let previous: Array<string | null> = [];
      await withStored(
        variants,
        () => previous,
        () =>
          transact(db, async (trx, effects) => {
            // Serialises two uploads at once: each sees the other's keys as the ones to replace.
            await accounts.lock(trx, accountId);
            await deps.requirePermission(trx, actor.id, accountId, "account:update");
            const before = await accounts.findById(trx, accountId);
            if (!before) throw notFound("Account");
            previous = [before.logoKey, before.logoSmallKey];
            const now = clock.now().toISOString();
            await accounts.setLogo(trx, accountId, { large: large.key, small: small.key }, now);
            const fresh = new Set(variants.map((v) => v.key));
            const replaced = previous.filter((k): k is string => k !== null && !fresh.has(k));
            await files.deleteAccountFiles(trx, accountId, replaced);
            for (const [i, v] of variants.entries())
              await files.insert(
                trx,
                {
                  key: v.key,
                  accountId,
                  userId: null,
                  kind: i === 0 ? "logo" : "logo_small",
                  contentType: v.contentType,
                  bytes: v.body.length,
                },
                now,
              );
            await recordAudit(
              trx,
              actor,
              {
                accountId,
                action: "account.logo_uploaded",
                targetType: "account",
                targetId: accountId,
                changes: {
                  logo_key: large.key,
                  bytes: large.body.length + small.body.length,
                  width: large.width,
                  height: large.height,
                },
              },
              clock.now(),
            );
            await announceLogo(trx, effects, actor, before, accountId);
            effects.afterCommit(() => discard(replaced));
          }),
      );
      return (await accounts.findById(db, accountId)) as Account;
    },

    /** DELETE /accounts/{id}/logo: the account shows no logo; its files go. */
    async removeLogo(actor: Actor & { id: string }, accountId: string): Promise<void> {
      await deps.requirePermission(db, actor.id, accountId, "account:update");
      await transact(db, async (trx, effects) => {
        await accounts.lock(trx, accountId);
        await deps.requirePermission(trx, actor.id, accountId, "account:update");
        const before = await accounts.findById(trx, accountId);
        if (!before) throw notFound("Account");
        const previous = [before.logoKey, before.logoSmallKey].filter((k): k is string => k !== null);
        if (previous.length === 0) return;
        await accounts.setLogo(trx, accountId, { large: null, small: null }, clock.now().toISOString());
        await files.deleteAccountFiles(trx, accountId, previous);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "account.logo_removed", targetType: "account", targetId: accountId },
          clock.now(),
        );
        await announceLogo(trx, effects, actor, before, accountId);
        effects.afterCommit(() => discard(previous));
      });
    },

    /** PUT /me/avatar: a person's own picture (not counted toward any account's storage). */
    async setAvatar(actor: Actor & { id: string }, accountId: string | null, bytes: Buffer): Promise<void> {
      const userId = actor.id;
      const variants = await processImage(bytes, "avatar", userId);
      const [large, small] = variants as [ImageVariant, ImageVariant];
      let previous: Array<string | null> = [];
      await withStored(
        variants,
        () => previous,
        () =>
          transact(db, async (trx, effects) => {
            // The row lock (PostgreSQL) orders two uploads at once, as accounts.lock does for logos.
            await users.update(trx, userId, {}, clock.now().toISOString());
            const before = await users.findById(trx, userId);
            if (!before) throw notFound("User");
            previous = [before.avatarKey, before.avatarSmallKey];
            const now = clock.now().toISOString();
            await users.update(trx, userId, { avatarKey: large.key, avatarSmallKey: small.key }, now);
            const fresh = new Set(variants.map((v) => v.key));
            const replaced = previous.filter((k): k is string => k !== null && !fresh.has(k));
            await files.deleteUserFiles(trx, userId, replaced);
            for (const [i, v] of variants.entries())
              await files.insert(
                trx,
                {
                  key: v.key,
                  accountId: null,
                  userId,
                  kind: i === 0 ? "avatar" : "avatar_small",
                  contentType: v.contentType,
                  bytes: v.body.length,
                },
                now,
              );
            await recordAudit(
              trx,
              actor,
              {
                accountId,
                action: "user.avatar_uploaded",
                targetType: "user",
                targetId: userId,
                changes: { avatar_key: large.key },
              },
              clock.now(),
            );
            effects.afterCommit(() => discard(replaced));
          }),
      );
    },

    /** DELETE /me/avatar. */
    async removeAvatar(actor: Actor & { id: string }, accountId: string | null): Promise<void> {
      const userId = actor.id;
      await transact(db, async (trx, effects) => {
        await users.update(trx, userId, {}, clock.now().toISOString());
        const before = await users.findById(trx, userId);
        if (!before) throw notFound("User");
        const previous = [before.avatarKey, before.avatarSmallKey].filter((k): k is string => k !== null);
        if (previous.length === 0) return;
        await users.update(trx, userId, { avatarKey: null, avatarSmallKey: null }, clock.now().toISOString());
        await files.deleteUserFiles(trx, userId, previous);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "user.avatar_removed", targetType: "user", targetId: userId },
          clock.now(),
        );
        effects.afterCommit(() => discard(previous));
      });
    },
  };
}

export type UploadsService = ReturnType<typeof createUploadsService>;
