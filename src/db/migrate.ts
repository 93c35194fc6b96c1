import { type Migration, type MigrationProvider, type MigrationResultSet, Migrator, sql } from "kysely";
import type { DatabaseHandle } from "./database.js";
import * as identity from "./migrations/0001-identity.js";
import * as members from "./migrations/0002-members.js";
import * as auditChain from "./migrations/0003-audit-chain.js";
import * as memberSort from "./migrations/0004-member-sort.js";
import * as mfa from "./migrations/0005-mfa.js";
import * as mfaCodes from "./migrations/0006-mfa-codes.js";
import * as mfaPolicy from "./migrations/0007-mfa-policy.js";
import * as passkeys from "./migrations/0008-passkeys.js";
import * as emailChangeDevices from "./migrations/0010-email-change-devices.js";
import * as smsAndViewableCodes from "./migrations/0011-sms-and-viewable-codes.js";
import * as billing from "./migrations/0012-billing.js";
import * as invoiceLineUnits from "./migrations/0013-invoice-line-units.js";
import * as jobsAndMailQueue from "./migrations/0014-jobs-and-mail-queue.js";
import * as apiKeys from "./migrations/0015-api-keys.js";
import * as apiRateLimits from "./migrations/0016-api-rate-limits.js";
import * as apiKeyUsage from "./migrations/0017-api-key-usage.js";
import * as events from "./migrations/0018-events.js";
import * as webhooks from "./migrations/0020-webhooks.js";
import * as notifications from "./migrations/0021-notifications.js";
import * as organizationProfile from "./migrations/0022-organization-profile.js";
import * as accountBranding from "./migrations/0023-account-branding.js";
import * as accountDomains from "./migrations/0024-account-domains.js";
import * as exports from "./migrations/0025-exports.js";
import * as dataRetention from "./migrations/0026-data-retention.js";
import * as accountClosure from "./migrations/0027-account-closure.js";
import * as overviewIndexes from "./migrations/0028-overview-indexes.js";
import * as memberSearchTrigram from "./migrations/0029-member-search-trigram.js";
import * as deviceRecognition from "./migrations/0030-device-recognition.js";
import * as oidc from "./migrations/0031-oidc.js";
import * as memberSearchSqlite from "./migrations/0032-member-search-sqlite.js";
import * as memberSearchShortTerms from "./migrations/0033-member-search-short-terms.js";

// Listed here rather than read from a folder so the compiled build and tsx behave the same.
const migrations: Record<string, Migration> = {
  "0001-identity": identity,
  "0002-members": members,
  "0003-audit-chain": auditChain,
  "0004-member-sort": memberSort,
  "0005-mfa": mfa,
  "0006-mfa-codes": mfaCodes,
  "0007-mfa-policy": mfaPolicy,
  "0008-passkeys": passkeys,
  "0010-email-change-devices": emailChangeDevices,
  "0011-sms-and-viewable-codes": smsAndViewableCodes,
  "0012-billing": billing,
  "0013-invoice-line-units": invoiceLineUnits,
  "0014-jobs-and-mail-queue": jobsAndMailQueue,
  "0015-api-keys": apiKeys,
  "0016-api-rate-limits": apiRateLimits,
  "0017-api-key-usage": apiKeyUsage,
  "0018-events": events,
  "0020-webhooks": webhooks,
  "0021-notifications": notifications,
  "0022-organization-profile": organizationProfile,
  "0023-account-branding": accountBranding,
  "0024-account-domains": accountDomains,
  "0025-exports": exports,
  "0026-data-retention": dataRetention,
  "0027-account-closure": accountClosure,
  "0028-overview-indexes": overviewIndexes,
  "0029-member-search-trigram": memberSearchTrigram,
  "0030-device-recognition": deviceRecognition,
  "0031-oidc": oidc,
  "0032-member-search-sqlite": memberSearchSqlite,
  "0033-member-search-short-terms": memberSearchShortTerms,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Kysely looks for its bookkeeping tables in every schema unless told which one is ours: with
 * `kysely_migration_lock` in another schema of the same database (a benchmark's `bench_<hex>`, another
 * installation), it would skip creating ours and then fail to lock it. On PostgreSQL the schema is
 * therefore always named: the one opened with, else `current_schema()` (the search_path's first).
 */
async function migratorFor(database: DatabaseHandle): Promise<Migrator> {
  const schema =
    database.dialect === "postgres" ? (database.schema ?? (await currentSchema(database))) : undefined;
  return new Migrator({ db: database.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
}

/**
 * Kysely's introspection still lists the tables of every schema; a schema dropped meanwhile (another
 * installation's, a test's) fails that listing with 3F000. Nothing was applied then: try again.
 */
async function withSchemaListRetry(
  migrate: () => Promise<MigrationResultSet>,
  attempts = 5,
): Promise<MigrationResultSet> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await migrate();
    const code = (outcome.error as { code?: unknown } | undefined)?.code;
    if (code !== "3F000" || attempt >= attempts) return outcome;
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

async function currentSchema(database: DatabaseHandle): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(
    database.db,
  );
  return rows[0]?.schema ?? undefined;
}

/** Applies every pending migration, in order, forward only. */
export async function migrateToLatest(database: DatabaseHandle): Promise<string[]> {
  const { error, results } = await withSchemaListRetry(async () =>
    (await migratorFor(database)).migrateToLatest(),
  );
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** Applies pending migrations up to and including `name` (tests of a migration on an older schema). */
export async function migrateUpTo(database: DatabaseHandle, name: string): Promise<string[]> {
  const migrator = await migratorFor(database);
  const { error, results } = await migrator.migrateTo(name);
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** The names of every migration this version knows, in order (a restore refuses a newer database). */
export function migrationNames(): string[] {
  return Object.keys(migrations).sort();
}
