import type { FastifyBaseLogger } from "fastify";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createAuthService } from "./auth/auth.service.js";
import { createEmailTokensRepository } from "./auth/email-tokens.repository.js";
import { createLoginThrottle } from "./auth/login-throttle.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import {
  createLocalInvalidator,
  createPostgresInvalidator,
  createSessionCache,
  type Invalidator,
} from "./auth/session-cache.js";
import { createSessionsRepository } from "./auth/sessions.repository.js";
import { createSessionsService } from "./auth/sessions.service.js";
import type { Config } from "./config.js";
import type { DatabaseHandle } from "./db/database.js";
import type { Clock } from "./lib/clock.js";
import { createOutboxMailer, createSmtpMailer, type Mailer } from "./mail/mailer.js";
import { createUsersRepository } from "./users/users.repository.js";
import { createUsersService } from "./users/users.service.js";

/** The composition root's output: every service, wired by hand. */
export async function createServices(deps: {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  mailer?: Mailer;
  hasher?: PasswordHasher;
}) {
  const { config, database, clock, log } = deps;
  const db = database.db;
  const mailer =
    deps.mailer ??
    (config.smtpUrl
      ? createSmtpMailer(config.smtpUrl, config.mailFrom, log)
      : createOutboxMailer(db, clock, log));
  const hasher = deps.hasher ?? createPasswordHasher();

  const invalidator: Invalidator =
    database.dialect === "postgres" && database.pgConfig
      ? await createPostgresInvalidator(database.pgConfig, (error) =>
          log.warn({ err: error }, "session invalidation channel"),
        )
      : createLocalInvalidator();

  const users = createUsersRepository();
  const accounts = createAccountsRepository();
  const cache = createSessionCache(invalidator);
  const sessions = createSessionsService({
    db,
    clock,
    sessions: createSessionsRepository(),
    cache,
    invalidator,
  });
  const accountsService = createAccountsService({ db, clock, accounts });
  const auth = createAuthService({
    db,
    clock,
    publicUrl: config.publicUrl,
    hasher,
    mailer,
    users,
    accounts,
    accountsService,
    emailTokens: createEmailTokensRepository(),
    sessions,
    throttle: createLoginThrottle({ db, clock }),
  });
  const usersService = createUsersService({ db, clock, users, accounts });

  return {
    db,
    database,
    clock,
    mailer,
    sessions,
    sessionCache: cache,
    auth,
    users: usersService,
    accountsService,
    async close() {
      mailer.close();
      await invalidator.close();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
