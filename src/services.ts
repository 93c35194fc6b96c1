import type { FastifyBaseLogger } from "fastify";
import { createAccountsRepository } from "./accounts/accounts.repository.js";
import { createAccountsService } from "./accounts/accounts.service.js";
import { createIpAllowlistGuard } from "./accounts/ip-allowlist.js";
import { createApiKeysRepository } from "./api-keys/api-keys.repository.js";
import { createApiKeysService } from "./api-keys/api-keys.service.js";
import { createKeyAuthentication } from "./api-keys/key-authentication.js";
import { createKeyCache } from "./api-keys/key-cache.js";
import { createKeyRateLimit } from "./api-keys/rate-limit.js";
import {
  connectRedis,
  createDatabaseStore,
  createFallbackStore,
  createMemoryStore,
  createRedisStore,
  purgeRateWindows,
  type RateLimitStore,
} from "./api-keys/rate-limit-stores.js";
import { createUsageRepository } from "./api-keys/usage.repository.js";
import { createApiKeyUsageService } from "./api-keys/usage.service.js";
import { createUsageRecorder, usageWriter } from "./api-keys/usage-recorder.js";
import { SYSTEM_ACTOR } from "./audit/audit.repository.js";
import { createAuditService } from "./audit/audit.service.js";
import { checkpointKey } from "./audit/audit-checkpoints.js";
import { createAuthService } from "./auth/auth.service.js";
import { createDevicesRepository } from "./auth/devices.repository.js";
import { createEmailChangeRepository } from "./auth/email-change.repository.js";
import { createEmailChangeService } from "./auth/email-change.service.js";
import { createEmailTokensRepository } from "./auth/email-tokens.repository.js";
import { createFactorThrottle } from "./auth/factor-throttle.js";
import { createLoginThrottle } from "./auth/login-throttle.js";
import { createPasswordHasher, type PasswordHasher } from "./auth/passwords.js";
import { createResetRequests, RESET_REQUESTS_JOB } from "./auth/reset-requests.js";
import {
  createLocalInvalidator,
  createPostgresInvalidator,
  createSessionCache,
  type Invalidator,
} from "./auth/session-cache.js";
import { createSessionsRepository } from "./auth/sessions.repository.js";
import { createSessionsService } from "./auth/sessions.service.js";
import { createSignupService } from "./auth/signup.service.js";
import { createAuthzService } from "./authz/authz.service.js";
import { createBackupJob } from "./backups/backup-job.js";
import { createBillingService } from "./billing/billing.service.js";
import { createPaymentMethodsRepository } from "./billing/payment-methods.repository.js";
import { createOfflineProvider, type PaymentProvider } from "./billing/payment-provider.js";
import { createPaymentsService } from "./billing/payments.service.js";
import { createBrandingRepository } from "./branding/branding.repository.js";
import { createBrandingService } from "./branding/branding.service.js";
import { createMailBranding, type LinkBaseFor } from "./branding/mail-branding.js";
import {
  type AccountForHost,
  createPublicBranding,
  type PasskeysOnHost,
} from "./branding/public-branding.js";
import { createAccountDeletion } from "./closure/account-deletion.js";
import { createClosureRepository } from "./closure/closure.repository.js";
import { createClosureService } from "./closure/closure.service.js";
import type { Config } from "./config.js";
import type { DatabaseHandle } from "./db/database.js";
import { purgeExpired } from "./db/purge.js";
import { createDnsChecker } from "./domains/dns-check.js";
import { createDomainHosts } from "./domains/domain-hosts.js";
import { createDomainsRepository } from "./domains/domains.repository.js";
import { createDomainsService } from "./domains/domains.service.js";
import { createEventLog, EVENT_FAN_OUT, EVENT_FAN_OUT_JOB } from "./events/event-log.js";
import {
  createExportRunner,
  EXPORT_FILES_PURGE_JOB,
  EXPORT_SCHEDULES_JOB,
  EXPORTS_JOB,
  type ExportFilesDays,
} from "./exports/export-runner.js";
import { createExportsRepository } from "./exports/exports.repository.js";
import { createExportsService } from "./exports/exports.service.js";
import { createInvitationsRepository } from "./invitations/invitations.repository.js";
import { createInvitationsService } from "./invitations/invitations.service.js";
import { createMultiAccountInviteService } from "./invitations/multi-account-invite.service.js";
import { createJobRunner } from "./jobs/job-runner.js";
import type { Clock } from "./lib/clock.js";
import { createOutboundHttp, type ResolveHost } from "./lib/outbound-http.js";
import { createRateLimiter } from "./lib/rate-limit.js";
import { createWriteBehind } from "./lib/write-behind.js";
import { createMailLimits } from "./mail/mail-limits.js";
import { createMailQueue, MAIL_JOB } from "./mail/mail-queue.js";
import { createOutboxTransport, createSmtpTransport, type MailTransport } from "./mail/mailer.js";
import { preloadMailTemplates } from "./mail/render.js";
import { createBulkRoleService } from "./members/bulk-role.service.js";
import { createManagedMembersRepository } from "./members/managed-members.repository.js";
import { createManagedMembersService } from "./members/managed-members.service.js";
import { createMembersRepository } from "./members/members.repository.js";
import { createMembersService } from "./members/members.service.js";
import { createMemberMfaService } from "./mfa/member-mfa.service.js";
import { createMfaRepository } from "./mfa/mfa.repository.js";
import { createMfaService } from "./mfa/mfa.service.js";
import { createMfaEvents } from "./mfa/mfa-events.js";
import { createPasskeysRepository } from "./mfa/passkeys.repository.js";
import { createPasskeysService } from "./mfa/passkeys.service.js";
import { createNotificationConsumer } from "./notifications/notification-consumer.js";
import { createNotificationHub } from "./notifications/notification-stream.js";
import { createNotificationsRepository } from "./notifications/notifications.repository.js";
import { createNotificationsService } from "./notifications/notifications.service.js";
import { createConnectedAppsRepository } from "./oidc/connected-apps.repository.js";
import { createConnectedAppsService } from "./oidc/connected-apps.service.js";
import { OIDC_PURGE_JOB, purgeExpiredPayloads } from "./oidc/oidc.adapter.js";
import { createBackchannelLogout } from "./oidc/oidc.backchannel.js";
import { createOidcClientsRepository } from "./oidc/oidc.clients.repository.js";
import { applyClientsFile } from "./oidc/oidc.clients-file.js";
import { createOidcKeyRotation, OIDC_KEY_ROTATION_JOB } from "./oidc/oidc.key-rotation.js";
import { createOidcProvider } from "./oidc/oidc.provider.js";
import { createOverviewRepository } from "./overview/overview.repository.js";
import { createOverviewService } from "./overview/overview.service.js";
import { createRetentionRepository } from "./retention/retention.repository.js";
import { createRetentionService } from "./retention/retention.service.js";
import { createAccessCache } from "./roles/access.js";
import { createAssignmentsRepository } from "./roles/assignments.repository.js";
import { createAssignmentsService } from "./roles/assignments.service.js";
import { createRolesRepository } from "./roles/roles.repository.js";
import { createRolesService } from "./roles/roles.service.js";
import { createOutboxSms, createWebhookSms, type SmsSender } from "./sms/sms.js";
import { fileUrlFor } from "./storage/file-urls.js";
import { withReadCache } from "./storage/read-cache.js";
import { createStorage, type FileStorage } from "./storage/storage.js";
import { createStoredFilesRepository } from "./storage/stored-files.repository.js";
import { createTeamsRepository } from "./teams/teams.repository.js";
import { createTeamsService } from "./teams/teams.service.js";
import { createUploadsService } from "./uploads/uploads.service.js";
import { createChangeFeed, createMeCache } from "./users/me-cache.js";
import { createSelfDeletion } from "./users/self-deletion.js";
import { createUsersRepository } from "./users/users.repository.js";
import { createUsersService } from "./users/users.service.js";
import {
  createWebhookDelivery,
  WEBHOOK_DELIVERY,
  WEBHOOK_DELIVERY_JOB,
} from "./webhooks/webhook-delivery.js";
import { createWebhooksRepository } from "./webhooks/webhooks.repository.js";
import { createWebhooksService } from "./webhooks/webhooks.service.js";

/** The composition root's output: every service, wired by hand. */
export async function createServices(deps: {
  config: Config;
  database: DatabaseHandle;
  clock: Clock;
  log: FastifyBaseLogger;
  mailTransport?: MailTransport;
  /**
   * Tests: a commit that queued mail waits for its delivery (see createMailQueue), and a password-reset
   * request for its handling (see createResetRequests).
   */
  waitForMail?: boolean;
  sms?: SmsSender;
  hasher?: PasswordHasher;
  /** A real payment processor; without one, the offline test provider (no real charges). */
  paymentProvider?: PaymentProvider;
  /** Tests: how webhook URLs' host names resolve (a local DNS server), and a shorter answer timeout. */
  resolveHost?: ResolveHost;
  webhookTimeoutMs?: number;
  /**
   * Custom domains (src/domains) plug in here: which account a Host belongs to (the public branding),
   * whether its log-in page offers passkeys, and the base of an account's mail links.
   */
  branding?: { accountForHost?: AccountForHost; passkeysOnHost?: PasskeysOnHost; linkBaseFor?: LinkBaseFor };
  /** Where files live; default: what the configuration says (the data folder, or STORAGE_URL). */
  storage?: FileStorage;
  /**
   * Exports: rows read a batch (default 1000), and how many days an account keeps export files
   * (default 7; the data-retention settings plug in here).
   */
  exports?: { batchSize?: number; exportFilesDays?: ExportFilesDays };
}) {
  const { config, database, clock, log } = deps;
  const db = database.db;
  const mailTransport =
    deps.mailTransport ??
    (config.smtpUrl ? createSmtpTransport(config.smtpUrl, config.mailFrom) : createOutboxTransport(log));
  const sms =
    deps.sms ??
    (config.smsWebhookUrl
      ? createWebhookSms(config.smsWebhookUrl, config.smsWebhookToken, log)
      : createOutboxSms(db, clock, log));
  const hasher = deps.hasher ?? createPasswordHasher();
  // A missing or broken mail template fails the start, not the first mail that needs it.
  preloadMailTemplates();
  const jobs = createJobRunner({ database, clock, log });
  const mailQueue = createMailQueue({
    database,
    clock,
    log,
    transport: mailTransport,
    publicUrl: config.publicUrl,
    kick: () => jobs.kick(MAIL_JOB),
    waitForDelivery: deps.waitForMail ?? false,
  });
  const events = createEventLog({
    database,
    clock,
    log,
    kick: () => jobs.kick(EVENT_FAN_OUT_JOB),
    waitForFanOut: deps.waitForMail ?? false,
  });
  const rateLimiter = createRateLimiter({ db, clock });
  const mailLimits = createMailLimits({ limiter: rateLimiter, log });

  const invalidator: Invalidator =
    database.dialect === "postgres" && database.pgConfig
      ? await createPostgresInvalidator(
          database.pgConfig,
          {
            error: (error) =>
              log.warn(
                { err: error },
                "cache invalidation channel (LISTEN) lost; caches off until it is back",
              ),
            restored: () => log.info("cache invalidation channel (LISTEN) restored; caches emptied"),
          },
          database.schema,
        )
      : createLocalInvalidator();

  // Small files read recently are served from memory (content-addressed keys never go stale).
  const storage = withReadCache(deps.storage ?? createStorage(config.storage));
  const storedFiles = createStoredFilesRepository();
  // Uploaded images are named by their storage keys; the API shows them as absolute URLs.
  const fileUrl = fileUrlFor(config.publicUrl);
  // What /me and /session show (user, memberships, MFA, closure), dropped by `changes` in every process.
  const meCache = createMeCache(invalidator);
  const changes = createChangeFeed(invalidator);
  const users = createUsersRepository({ fileUrl, changes });
  const accounts = createAccountsRepository({ fileUrl, changes });
  const membersRepository = createMembersRepository({ fileUrl, changes, dialect: database.dialect });
  const brandingRepository = createBrandingRepository({ fileUrl });
  // What every mail about an account shows of it, and where its links point.
  const mailBranding = createMailBranding({
    publicUrl: config.publicUrl,
    repository: brandingRepository,
    // A verified custom domain, once the domains service below exists (called only at run time).
    linkBaseFor:
      deps.branding?.linkBaseFor ?? ((executor, accountId) => domains.linkBaseFor(executor, accountId)),
  });
  const teamsRepository = createTeamsRepository();
  const cache = createSessionCache(invalidator);
  const sessions = createSessionsService({
    db,
    clock,
    sessions: createSessionsRepository(),
    accounts,
    cache,
    invalidator,
    secretKey: config.secretKey,
  });
  // OpenID Connect provider (src/oidc), issuer `${PUBLIC_URL}/oidc`: rebuilt in every process when the
  // signing keys rotate (`oidcKeyRotation`).
  const oidcClients = createOidcClientsRepository({ secretKey: config.secretKey, now: clock.now });
  // OIDC_CLIENTS: declared clients applied at start-up; a bad file stops the start with its reason.
  if (config.oidc.clientsFile) {
    const applied = await applyClientsFile(
      db,
      { secretKey: config.secretKey, now: clock.now() },
      config.oidc.clientsFile,
    );
    log.info(applied, "OIDC_CLIENTS applied");
  }
  const throttle = createLoginThrottle({ db, clock });
  const oidc = await createOidcProvider({
    config,
    db,
    clients: oidcClients,
    sessionUser: async (token) => (await sessions.authenticate(token))?.userId,
    accessTokenTtl: config.oidc.accessTokenTtlSeconds,
    now: clock.now,
    log,
    throttle,
  });
  const oidcKeyRotation = createOidcKeyRotation({
    db,
    secretKey: config.secretKey,
    clock,
    rotationDays: config.oidc.keyRotationDays,
    accessTokenTtl: config.oidc.accessTokenTtlSeconds,
    invalidator,
    oidc,
    log,
  });
  const apiKeysRepository = createApiKeysRepository();
  const keyCache = createKeyCache({ db, keys: apiKeysRepository, invalidator });
  const access = createAccessCache(invalidator, keyCache.grants);
  const mfaRepository = createMfaRepository({ changes });
  const ipAllowlist = createIpAllowlistGuard({ db, accounts, access, invalidator });
  // In-memory buffers (API keys' last use…) written every few seconds and at shutdown; main.ts starts it.
  const writeBehind = createWriteBehind({ log });
  const keyAuthentication = createKeyAuthentication({
    db,
    clock,
    keys: apiKeysRepository,
    cache: keyCache,
    access,
    ipAllowlist,
  });
  writeBehind.register("api-key-last-use", keyAuthentication.flushLastUse);
  writeBehind.register("session-touch", sessions.flushTouches);
  const usageRepository = createUsageRepository();
  const keyUsageRecorder = createUsageRecorder({ log, write: usageWriter(db, usageRepository) });
  writeBehind.register("api-key-usage", keyUsageRecorder.flush);
  // API keys' per-minute counters: Redis when configured (the database, or memory on SQLite, while it
  // is unreachable), else PostgreSQL, else this process's memory (SQLite runs one process).
  const localRateStore: RateLimitStore =
    database.dialect === "postgres" ? createDatabaseStore(db) : createMemoryStore();
  const redis = config.redisUrl ? await connectRedis(config.redisUrl, log) : undefined;
  const keyRateLimit = createKeyRateLimit({
    db,
    clock,
    plans: config.plans,
    invalidator,
    store: redis
      ? createFallbackStore(createRedisStore(redis, config.redisKeyPrefix), localRateStore, log)
      : localRateStore,
  });
  const factorThrottle = createFactorThrottle({ db, clock, throttle, users, mailQueue, sessions });
  const mfaEvents = createMfaEvents({ accounts, members: membersRepository, events });
  const mfa = createMfaService({
    db,
    clock,
    secretKey: config.secretKey,
    hasher,
    mailQueue,
    sms,
    mfa: mfaRepository,
    users,
    sessions,
    factorThrottle,
    mfaEvents,
    mailBranding,
  });
  const accountsService = createAccountsService({ db, clock, accounts, access, sessions, events });
  const rolesRepository = createRolesRepository({ changes });
  const invitationsRepository = createInvitationsRepository();
  const usersService = createUsersService({ db, clock, users, accounts, cache: meCache });
  const emailChanges = createEmailChangeRepository({ changes });
  const emailTokens = createEmailTokensRepository();
  const auth = createAuthService({
    db,
    clock,
    publicUrl: config.publicUrl,
    hasher,
    mailQueue,
    mailLimits,
    users,
    accounts,
    accountsService,
    emailTokens,
    emailChanges,
    devices: createDevicesRepository(),
    sessions,
    throttle,
    factorThrottle,
    mfa,
    ipAllowlist,
  });
  const signup = createSignupService({
    db,
    clock,
    publicUrl: config.publicUrl,
    hasher,
    mailQueue,
    mailLimits,
    users,
    me: usersService.getMe,
    accountsService,
    emailTokens,
  });
  const passkeys = createPasskeysService({
    db,
    clock,
    publicUrl: config.publicUrl,
    users,
    mfaRepository,
    mfa,
    passkeys: createPasskeysRepository(),
    sessions,
    factorThrottle,
    auth,
  });
  const emailChange = createEmailChangeService({
    db,
    clock,
    publicUrl: config.publicUrl,
    mailQueue,
    users,
    sessions,
    emailChanges,
  });
  const roles = createRolesService({
    db,
    clock,
    roles: rolesRepository,
    accounts,
    access,
    extraPermissions: config.extraPermissions,
    events,
    members: membersRepository,
    teams: teamsRepository,
  });
  const apiKeys = createApiKeysService({
    db,
    clock,
    keys: apiKeysRepository,
    cache: keyCache,
    access,
    authentication: keyAuthentication,
    sessions,
    catalog: roles.catalog,
    accounts,
    plans: config.plans,
    events,
  });
  const apiKeyUsage = createApiKeyUsageService({
    db,
    clock,
    keys: apiKeysRepository,
    usage: usageRepository,
    access,
  });
  const members = createMembersService({
    db,
    clock,
    members: membersRepository,
    roles: rolesRepository,
    accounts,
    invitations: invitationsRepository,
    access,
    sessions,
    invalidator,
    apiKeys,
    events,
  });
  const bulkRole = createBulkRoleService({
    db,
    access,
    accounts,
    roles: rolesRepository,
    members: membersRepository,
    changes: members,
  });
  const assignments = createAssignmentsService({
    db,
    access,
    repository: createAssignmentsRepository(),
    catalog: roles.catalog,
  });
  const memberMfa = createMemberMfaService({
    clock,
    secretKey: config.secretKey,
    members,
    mfa,
    repository: mfaRepository,
    sessions,
    mfaEvents,
  });
  const payments = createPaymentsService({
    db,
    clock,
    mailQueue,
    access,
    accounts,
    methods: createPaymentMethodsRepository(),
    provider: deps.paymentProvider ?? createOfflineProvider(),
    publicUrl: config.publicUrl,
    events,
  });
  const billing = createBillingService({
    db,
    clock,
    plans: config.plans,
    accounts,
    requirePermission: accountsService.requirePermission,
    defaultPaymentMethod: payments.defaultMethod,
    // Limits that follow the plan (API rate, key count) are cached per account in every process.
    onPlanChanged: async (trx, effects, accountId) => {
      await access.publishAccountChange(trx, effects.afterCommit, accountId);
      // A plan's audit log maximum bounds the retention in force; a lowered one counts from now.
      await retention.syncLimits(trx, accountId);
    },
    onInvoiceCreated: async (invoice) => {
      await payments.collect(invoice.id);
    },
    events,
    storageBytes: storedFiles.accountBytes,
  });
  const invitations = createInvitationsService({
    db,
    clock,
    publicUrl: config.publicUrl,
    mailQueue,
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
    members: membersRepository,
    events,
    mailBranding,
  });
  const multiAccountInvite = createMultiAccountInviteService({ db, access, ipAllowlist, invitations });
  const managedMembers = createManagedMembersService({
    db,
    access,
    accounts,
    ipAllowlist,
    managedMembers: createManagedMembersRepository({ fileUrl }),
  });
  const teams = createTeamsService({
    db,
    clock,
    teams: teamsRepository,
    roles: rolesRepository,
    access,
    events,
  });
  const notificationsRepository = createNotificationsRepository();
  const notificationHub = createNotificationHub({
    db,
    clock,
    log,
    invalidator,
    repository: notificationsRepository,
  });
  const notifications = createNotificationsService({
    db,
    clock,
    secretKey: config.secretKey,
    repository: notificationsRepository,
    users,
    sms,
    factorThrottle,
  });
  events.subscribe(
    "notifications",
    createNotificationConsumer({
      clock,
      secretKey: config.secretKey,
      publicUrl: config.publicUrl,
      repository: notificationsRepository,
      mailQueue,
      sms,
      hub: notificationHub,
      mailBranding,
    }),
  );
  // Every outbound HTTP call to a user-chosen URL goes through this one policy (SSRF).
  const outbound = createOutboundHttp({
    allowPrivateNetworks: config.webhookAllowPrivateNetworks,
    requireHttps: config.production,
    ...(deps.resolveHost ? { resolve: deps.resolveHost } : {}),
  });
  // Clients that received tokens from a Gatehouse session are told when it ends (src/oidc).
  const oidcBackchannel = createBackchannelLogout({
    db,
    signingKey: oidc.signingKey,
    publicUrl: config.publicUrl,
    outbound,
    invalidator,
    now: clock.now,
    log,
  });
  const webhookDelivery = createWebhookDelivery({
    database,
    clock,
    log,
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
    outbound,
    mailQueue,
    accounts,
    mailBranding,
    kick: () => jobs.kick(WEBHOOK_DELIVERY_JOB),
    waitForDelivery: deps.waitForMail ?? false,
    ...(deps.webhookTimeoutMs ? { timeoutMs: deps.webhookTimeoutMs } : {}),
  });
  events.subscribe("webhooks", webhookDelivery.consume);
  const webhooks = createWebhooksService({
    db,
    clock,
    secretKey: config.secretKey,
    repository: createWebhooksRepository(database.dialect),
    delivery: webhookDelivery,
    outbound,
    access,
    accounts,
    plans: config.plans,
  });
  const domainsRepository = createDomainsRepository();
  const domains = createDomainsService({
    db,
    clock,
    publicUrl: config.publicUrl,
    cnameTarget: config.publicHostname,
    plans: config.plans,
    repository: domainsRepository,
    hosts: createDomainHosts({
      db,
      repository: domainsRepository,
      invalidator,
      ownHosts: [new URL(config.publicUrl).hostname, config.publicHostname],
    }),
    dns: createDnsChecker({ servers: config.dnsServers }),
    access,
    accounts,
    rateLimiter,
    mailQueue,
    mailBranding,
    events,
  });
  const branding = createBrandingService({
    db,
    clock,
    repository: brandingRepository,
    access,
    events,
    invalidator,
    mailBranding,
    mailQueue,
    limiter: rateLimiter,
    users,
  });
  const publicBranding = createPublicBranding({
    db,
    repository: brandingRepository,
    invalidator,
    limiter: rateLimiter,
    accountForHost: deps.branding?.accountForHost ?? ((host) => domains.accountForHost(host)),
    passkeysOnHost: deps.branding?.passkeysOnHost ?? ((host) => domains.passkeysOnHost(host)),
  });
  const uploads = createUploadsService({
    db,
    clock,
    log,
    storage,
    files: storedFiles,
    accounts,
    users,
    requirePermission: accountsService.requirePermission,
    events,
  });
  const authz = createAuthzService({ db, access });
  const audit = createAuditService({ db, accountsService, fileUrl });
  const resetRequests = createResetRequests({
    db,
    clock,
    handle: auth.handleResetRequest,
    ...(deps.waitForMail ? { processNow: () => jobs.kick(RESET_REQUESTS_JOB) } : {}),
  });

  const exportsRepository = createExportsRepository();
  const exportRunner = createExportRunner({
    db,
    clock,
    log,
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
    repository: exportsRepository,
    storage,
    storedFiles,
    mailQueue,
    mailBranding,
    notifications: notificationsRepository,
    hub: notificationHub,
    // The account's data-retention setting (created below; read only when a run or a purge asks).
    exportFilesDays:
      deps.exports?.exportFilesDays ??
      ((accountId, executor) => retention.exportFilesDays(accountId, executor)),
    ...(deps.exports?.batchSize ? { batchSize: deps.exports.batchSize } : {}),
  });
  const exports = createExportsService({
    db,
    clock,
    secretKey: config.secretKey,
    publicUrl: config.publicUrl,
    repository: exportsRepository,
    access,
    storage,
    runner: exportRunner,
    ipAllowed: ipAllowlist.allows,
  });

  // Account closure (30-day grace) and deleting one's own login (issue 15).
  const closureRepository = createClosureRepository({ changes });
  const closures = createClosureService({
    db,
    clock,
    repository: closureRepository,
    accounts,
    users,
    access,
    sessions,
    billing,
    mailQueue,
    mailBranding,
  });
  const accountDeletion = createAccountDeletion({
    database,
    clock,
    repository: closureRepository,
    storage,
    access,
    invalidator,
    sessionCache: cache,
    log,
  });
  const selfDeletion = createSelfDeletion({
    db,
    clock,
    auth,
    sessions,
    accounts,
    members: membersRepository,
    access,
    apiKeys,
    mailQueue,
    storage,
    log,
  });

  // The one job loop (STYLE habit 13); main.ts starts it. In this order `runNow` runs them, so mail
  // that the others queue goes out in the same round.
  jobs.register({
    name: "billing-renewals",
    everySeconds: 60,
    description: "renews (or ends) subscriptions whose period is over, invoicing and collecting",
    run: async () => ({ renewed: await billing.renewDue(SYSTEM_ACTOR) }),
  });
  jobs.register({
    name: "payment-retries",
    everySeconds: 60,
    description: "charges open invoices whose next payment attempt has come",
    run: () => payments.retryDue(),
  });
  jobs.register({
    name: "purge-expired",
    everySeconds: 600,
    description: "deletes expired links, challenges, codes, idle throttle counters and old delivered mail",
    run: () => purgeExpired(db, clock.now()),
  });
  jobs.register({
    name: OIDC_PURGE_JOB,
    everySeconds: 600,
    // oidc-provider dates its rows by the wall clock, not the injected one.
    description: "deletes the OpenID Connect provider's expired sessions, codes, tokens and grants",
    run: async () => ({ deleted: await purgeExpiredPayloads(db, new Date()) }),
  });
  jobs.register({
    name: OIDC_KEY_ROTATION_JOB,
    everySeconds: 3600,
    description: `makes a new OpenID Connect signing key every ${config.oidc.keyRotationDays} days (OIDC_KEY_ROTATION_DAYS); deletes retired keys once every token they signed has expired`,
    run: oidcKeyRotation.rotateDue,
  });
  jobs.register({
    name: "api-key-logs-purge",
    everySeconds: 3600,
    description: "deletes API key request log entries older than 30 days",
    run: apiKeyUsage.purgeOldLogs,
  });
  jobs.register({
    name: "api-rate-windows",
    everySeconds: 300,
    description: "deletes API keys' per-minute request counters of past minutes (PostgreSQL without Redis)",
    run: () => purgeRateWindows(db, Math.floor(clock.now().getTime() / 60_000) - 1),
  });
  jobs.register({
    name: RESET_REQUESTS_JOB,
    everySeconds: 0,
    description: "handles password-reset requests (the request only records them)",
    hasWork: resetRequests.hasWork,
    run: resetRequests.processDue,
  });
  jobs.register({
    name: EVENT_FAN_OUT_JOB,
    everySeconds: 0,
    description: "hands new events to webhooks and notifications, each event once",
    hasWork: events.hasPending,
    run: events.fanOut,
  });
  jobs.register({
    name: "event-purge",
    everySeconds: 3600,
    description: `deletes events older than ${EVENT_FAN_OUT.retentionDays} days that were handed on`,
    run: events.purge,
  });
  jobs.register({
    name: WEBHOOK_DELIVERY_JOB,
    everySeconds: 0,
    description: "sends due webhook deliveries; failures retry from 5 s to 10 h, then fail",
    hasWork: webhookDelivery.hasDue,
    run: webhookDelivery.deliverDue,
  });
  jobs.register({
    name: "webhook-deliveries-purge",
    everySeconds: 3600,
    description: `deletes webhook deliveries older than ${WEBHOOK_DELIVERY.retentionDays} days`,
    run: webhookDelivery.purge,
  });
  jobs.register({
    name: "domain-recheck",
    everySeconds: 3600,
    description:
      "looks again at custom domains verified over a day ago; broken ones fail and their admins get mail",
    run: domains.recheckDue,
  });
  // Retention (issue 15): the limits in force, purges of old audit events, anonymising departed people.
  const auditCheckpointKey = checkpointKey(config.secretKey);
  const retention = createRetentionService({
    db,
    clock,
    repository: createRetentionRepository(),
    accounts,
    access,
    checkpointKey: auditCheckpointKey,
  });
  events.subscribe("retention", retention.consumeEvents);
  jobs.register({
    name: "data-retention",
    everySeconds: 3600,
    description:
      "purges audit events past each account's retention (keeping a signed checkpoint) and anonymises people who left",
    run: retention.runDue,
  });
  jobs.register({
    name: EXPORT_SCHEDULES_JOB,
    everySeconds: 60,
    description: "queues an export for each due export schedule and moves it to its next run",
    run: exportRunner.runSchedules,
  });
  jobs.register({
    name: EXPORTS_JOB,
    everySeconds: 0,
    description: "writes queued exports (batch by batch) into storage, then mails and notifies",
    hasWork: exportRunner.hasWork,
    run: exportRunner.runDue,
  });
  jobs.register({
    name: EXPORT_FILES_PURGE_JOB,
    everySeconds: 3600,
    description: "deletes export files older than their account's export_files_days (default 7)",
    run: exportRunner.purgeFiles,
  });
  jobs.register({
    name: "account-closures",
    everySeconds: 3600,
    description:
      "deletes accounts whose 30-day closure grace period is over (invoices kept 7 years without them)",
    run: accountDeletion.deleteDue,
  });
  jobs.register({
    name: "retained-invoices-purge",
    everySeconds: 86_400,
    description: "deletes invoices of deleted accounts once their 7 years of retention are over",
    run: accountDeletion.purgeRetainedInvoices,
  });
  jobs.register({
    name: MAIL_JOB,
    everySeconds: 0,
    description: "delivers queued mail; 4xx and lost connections retry with backoff, 5xx fails",
    hasWork: mailQueue.hasDue,
    run: mailQueue.deliverDue,
  });
  // Scheduled backups only where BACKUP_DIR says where (README "Backups and restore").
  if (config.backups)
    jobs.register(
      createBackupJob({
        backups: config.backups,
        database,
        storage,
        secretKey: config.secretKey,
        pgBinDir: config.pgBinDir,
        clock,
        log,
      }),
    );

  return {
    db,
    database,
    clock,
    mailQueue,
    /** The event stream: `events.record(trx, effects, actor, …)` in a change's transaction. */
    events,
    jobs,
    resetRequests,
    rateLimiter,
    sms,
    sessions,
    sessionCache: cache,
    apiKeys,
    keyAuthentication,
    keyCache,
    /** Counts and logs of the requests keys make, buffered in memory; written by `writeBehind`. */
    keyUsageRecorder,
    apiKeyUsage,
    keyRateLimit,
    /** Flush point of the in-memory write buffers; register more with `writeBehind.register`. */
    writeBehind,
    /** Whether this process hears other processes' invalidations (caches are bypassed while it does not). */
    invalidator,
    auth,
    signup,
    emailChange,
    users: usersService,
    meCache,
    accountsService,
    access,
    ipAllowlist,
    roles,
    members,
    /** POST …/members/bulk-role (src/members/bulk-role.service.ts). */
    bulkRole,
    /** GET …/assignments: the User Assignments matrix (src/roles/assignments.service.ts). */
    assignments,
    memberMfa,
    invitations,
    /** POST /invitations: several accounts at once (src/invitations/multi-account-invite.*). */
    multiAccountInvite,
    /** People across the accounts a person administers (src/members/managed-members.*). */
    managedMembers,
    teams,
    authz,
    audit,
    billing,
    payments,
    /** GET …/overview: the account at a glance (src/overview). */
    overview: createOverviewService({
      db,
      clock,
      access,
      accounts,
      plans: config.plans,
      billing,
      audit,
      repository: createOverviewRepository(),
    }),
    mfa,
    passkeys,
    notifications,
    /** Open notification streams (SSE) of this process. */
    notificationHub,
    webhooks,
    webhookDelivery,
    /** Settings → Connected apps: third-party OIDC clients an account's members authorized (src/oidc). */
    connectedApps: createConnectedAppsService({
      db,
      clock,
      access,
      repository: createConnectedAppsRepository(),
    }),
    /** Custom domains; `accountForHost`, `passkeysOnHost` and `linkBaseFor` for the rest of the app. */
    domains,
    branding,
    /** The log-in page's public branding (cached in this process). */
    publicBranding,
    /** `mailBranding.load(db, accountId)`: what a mail about an account shows, and its link base. */
    mailBranding,
    /** Uploaded files (logos, avatars; later exports): the data folder or S3. */
    storage,
    storedFiles,
    uploads,
    /** Data retention (GET/PATCH …/data-retention, the data-retention job, exportFilesDays). */
    retention,
    /** Key of the signed audit checkpoints retention leaves (`gatehouse audit verify`). */
    auditCheckpointKey,
    /** Data exports and their schedules (src/exports); `exportRunner` is what the job loop runs. */
    exports,
    exportRunner,
    /** Account closure: schedule, cancel (also by mailed link); `accountDeletion` runs in the job loop. */
    closures,
    accountDeletion,
    /** DELETE /me. */
    selfDeletion,
    /** OpenID Connect provider (src/oidc): `oidc.provider()` is the current one; its registered clients. */
    oidc,
    oidcClients,
    /** Signing-key rotation (the job, `gatehouse oidc keys rotate`). */
    oidcKeyRotation,
    /** Back-channel logout when a Gatehouse session ends (src/oidc/oidc.backchannel.ts). */
    oidcBackchannel,
    /** Verifies `authorization: Bearer` access tokens (JWTs) against the provider's published keys. */
    oidcAccessTokens: oidc.accessTokens,
    async close() {
      notificationHub.closeAll();
      await writeBehind.stop();
      await jobs.stop();
      mailTransport.close();
      outbound.close();
      await invalidator.close();
      redis?.disconnect();
      storage.close();
    },
  };
}

export type Services = Awaited<ReturnType<typeof createServices>>;
