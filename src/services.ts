import type { FastifyBaseLogger } from "fastify";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createIpAllowlistGuard } from "./accounts/ip-allowlist.js";
import { createAuditService } from "./audit/audit.service.js";
import { createAuthService } from "./auth/auth.service.js";
import { createDevicesRepository } from "./auth/devices.repository.js";
import { createEmailChangeRepository } from "./auth/email-change.repository.js";
import { createEmailChangeService } from "./auth/email-change.service.js";
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
import { createAuthzService } from "./authz/authz.service.js";
import { createBillingService } from "./billing/billing.service.js";
import { createPaymentMethodsRepository } from "./billing/payment-methods.repository.js";
import { createOfflineProvider, type PaymentProvider } from "./billing/payment-provider.js";
import { createPaymentsService } from "./billing/payments.service.js";
import type { Config } from "./config.js";
import type { DatabaseHandle } from "./db/database.js";
import { createInvitationsRepository } from "./invitations/invitations.repository.js";
import { createInvitationsService } from "./invitations/invitations.service.js";
import type { Clock } from "./lib/clock.js";
import { createOutboxMailer, createSmtpMailer, type Mailer } from "./mail/mailer.js";
import { createMembersRepository } from "./members/members.repository.js";
import { createMembersService } from "./members/members.service.js";
import { createMemberMfaService } from "./mfa/member-mfa.service.js";
import { createMfaRepository } from "./mfa/mfa.repository.js";
import { createMfaService } from "./mfa/mfa.service.js";
import { createPasskeysRepository } from "./mfa/passkeys.repository.js";
import { createPasskeysService } from "./mfa/passkeys.service.js";
import { createAccessCache } from "./roles/access.js";
import { createRolesRepository } from "./roles/roles.repository.js";
import { createRolesService } from "./roles/roles.service.js";
import { createOutboxSms, createWebhookSms, type SmsSender } from "./sms/sms.js";
import { createTeamsRepository } from "./teams/teams.repository.js";
import { createTeamsService } from "./teams/teams.service.js";
import { createUsersRepository } from "./users/users.repository.js";
import { createUsersService } from "./users/users.service.js";

/** The composition root's output: every service, wired by hand. */
export async function createServices(deps: {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  mailer?: Mailer;
  sms?: SmsSender;
  hasher?: PasswordHasher;
  /** A real payment processor; without one, the offline test provider (no real charges). */
  paymentProvider?: PaymentProvider;
}) {
  const { config, database, clock, log } = deps;
  const db = database.db;
  const mailer =
    deps.mailer ??
    (config.smtpUrl
      ? createSmtpMailer(config.smtpUrl, config.mailFrom, log)
      : createOutboxMailer(db, clock, log));
  const sms =
    deps.sms ??
    (config.smsWebhookUrl
      ? createWebhookSms(config.smsWebhookUrl, config.smsWebhookToken, log)
      : createOutboxSms(db, clock, log));
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
  const access = createAccessCache(invalidator);
  const mfaRepository = createMfaRepository();
  const ipAllowlist = createIpAllowlistGuard({ db, accounts, access, invalidator });
  const mfa = createMfaService({
    db,
    clock,
    secretKey: config.secretKey,
    hasher,
    mailer,
    sms,
    mfa: mfaRepository,
    users,
    sessions,
  });
  const accountsService = createAccountsService({ db, clock, accounts, access, sessions });
  const rolesRepository = createRolesRepository();
  const invitationsRepository = createInvitationsRepository();
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
    devices: createDevicesRepository(),
    sessions,
    throttle: createLoginThrottle({ db, clock }),
    mfa,
    ipAllowlist,
  });
  const passkeys = createPasskeysService({
    db,
    clock,
    publicUrl: config.publicUrl,
    users,
    mfaRepository: createMfaRepository(),
    mfa,
    passkeys: createPasskeysRepository(),
    sessions,
    auth,
  });
  const emailChange = createEmailChangeService({
    db,
    clock,
    publicUrl: config.publicUrl,
    mailer,
    users,
    sessions,
    emailChanges: createEmailChangeRepository(),
  });
  const usersService = createUsersService({ db, clock, users, accounts });
  const roles = createRolesService({
    db,
    clock,
    roles: rolesRepository,
    accounts,
    access,
    extraPermissions: config.extraPermissions,
  });
  const members = createMembersService({
    db,
    clock,
    members: createMembersRepository(),
    roles: rolesRepository,
    accounts,
    invitations: invitationsRepository,
    access,
    sessions,
    invalidator,
  });
  const memberMfa = createMemberMfaService({
    clock,
    secretKey: config.secretKey,
    members,
    mfa,
    repository: mfaRepository,
    sessions,
  });
  const payments = createPaymentsService({
    db,
    clock,
    mailer,
    access,
    accounts,
    methods: createPaymentMethodsRepository(),
    provider: deps.paymentProvider ?? createOfflineProvider(),
    publicUrl: config.publicUrl,
  });
  const billing = createBillingService({
    db,
    clock,
    plans: config.plans,
    accounts,
    requirePermission: accountsService.requirePermission,
    defaultPaymentMethod: payments.defaultMethod,
    onInvoiceCreated: async (invoice) => {
      await payments.collect(invoice.id);
    },
  });
  const invitations = createInvitationsService({
    db,
    clock,
    publicUrl: config.publicUrl,
    mailer,
    hasher,
    invitations: invitationsRepository,
    roles: rolesRepository,
    accounts,
    accountsService,
    users,
    access,
    sessions,
    ipAllowlist,
    plans: config.plans,
    billing,
  });
  const teams = createTeamsService({
    db,
    clock,
    teams: createTeamsRepository(),
    roles: rolesRepository,
    access,
  });
  const authz = createAuthzService({ db, access });
  const audit = createAuditService({ db, accountsService });

  return {
    db,
    database,
    clock,
    mailer,
    sms,
    sessions,
    sessionCache: cache,
    auth,
    emailChange,
    users: usersService,
    accountsService,
    access,
    ipAllowlist,
    roles,
    members,
    memberMfa,
    invitations,
    teams,
    authz,
    audit,
    billing,
    payments,
    mfa,
    passkeys,
    async close() {
      mailer.close();
      await invalidator.close();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
