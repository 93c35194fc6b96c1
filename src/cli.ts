import { parseArgs } from "node:util";
import pino from "pino";
import { runApiKeysCommand } from "./api-keys/api-keys-cli.js";
import { runAuditCommand } from "./audit/audit-cli.js";
import { runBackupCommand } from "./backups/backups-cli.js";
import { runBillingCommand } from "./billing/billing-cli.js";
import { loadConfig } from "./config.js";
import { openDatabase } from "./db/database.js";
import { migrateToLatest } from "./db/migrate.js";
import { AppError } from "./http/errors.js";
import { runJobsCommand } from "./jobs/jobs-cli.js";
import { createClock } from "./lib/clock.js";
import { runOidcCommand } from "./oidc/oidc-clients-cli.js";
import { createServices } from "./services.js";

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start                         run the server (same as npm start)
  migrate                       apply pending database migrations
  create-account --email E --name "Full Name" --account "Account name" [--password P]
                                create an account and its Root user (email treated as verified);
                                without --password, one is read from GATEHOUSE_PASSWORD or generated and printed
  reset-password --email E [--password P]
                                set a new password for a user (ends their sessions; they must change it at next login)
  audit verify [--account acct_…]
                                recompute the audit hash chains; exit 1 at the first break
  billing enterprise --account acct_… --price-cents N [--seats N] [--interval month|year]
                     [--api-rate N] [--api-keys N] [--webhooks N]
                                put an account on Enterprise terms set by the operator
  billing renew                 renew (or end) every subscription whose period is over
  jobs [--json]                 the background jobs: last run, outcome, next run, failures, who runs them
                                now; and the mail queue
  jobs run [name …]             run the named jobs (all when none is named) now
  api-keys list --account acct_… [--json]
                                the account's API keys (never their secrets)
  api-keys revoke --account acct_… key_…
                                revoke an API key at once
  oidc clients add --name N --redirect-uri URL [--party first|third] [--public] …
                                register an OpenID Connect client (its secret is shown once)
  oidc clients list | remove <client_id> | rotate-secret <client_id>
                                the registered clients (see gatehouse oidc --help)
  oidc keys rotate              a new OpenID Connect signing key now (the job makes one every
                                OIDC_KEY_ROTATION_DAYS)
  backup --out <file>           a consistent snapshot of the database and the stored files, as one ZIP
                                (safe while the server runs)
  restore <file> [--allow-other-secret-key]
                                restore a backup into an empty database, verifying its checksums first

Configuration comes from the environment (DATABASE_URL, SECRET_KEY, …) as for the server.`;

async function withServices<T>(
  work: (services: Awaited<ReturnType<typeof createServices>>) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const database = openDatabase(config.databaseUrl);
  await migrateToLatest(database);
  const log = pino({ level: "warn" });
  const services = await createServices({ config, database, clock: createClock(), log });
  try {
    return await work(services);
  } finally {
    await services.close();
    await database.close();
  }
}

function generatedPassword(): string {
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "audit") return withServices((s) => runAuditCommand(rest, s));
  if (command === "billing") return withServices((s) => runBillingCommand(rest, s));
  if (command === "jobs") return withServices((s) => runJobsCommand(rest, s));
  if (command === "api-keys") return withServices((s) => runApiKeysCommand(rest, s));
  if (command === "oidc") return withServices((s) => runOidcCommand(rest, s));
  if (command === "backup" || command === "restore") return runBackupCommand(command, rest);
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: "string" },
      name: { type: "string" },
      account: { type: "string" },
      password: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  switch (command) {
    case "migrate": {
      const config = loadConfig();
      const database = openDatabase(config.databaseUrl);
      const applied = await migrateToLatest(database);
      await database.close();
      console.log(applied.length ? `Applied: ${applied.join(", ")}` : "Database is up to date.");
      return 0;
    }
    case "create-account": {
      if (!values.email || !values.account)
        throw new UsageError("create-account needs --email and --account");
      const given = values.password ?? process.env.GATEHOUSE_PASSWORD;
      const password = given ?? generatedPassword();
      const result = await withServices((s) =>
        s.auth.createAccountWithRoot({
          email: values.email as string,
          password,
          name: values.name ?? "",
          accountName: values.account as string,
        }),
      );
      console.log(`Created account ${result.accountId} with Root user ${result.userId} <${values.email}>.`);
      if (!given) console.log(`Generated password (shown once): ${password}`);
      return 0;
    }
    case "reset-password": {
      if (!values.email) throw new UsageError("reset-password needs --email");
      const given = values.password ?? process.env.GATEHOUSE_PASSWORD;
      const password = given ?? generatedPassword();
      await withServices((s) => s.auth.adminResetPassword(values.email as string, password));
      console.log(
        `Password reset for ${values.email}; their sessions ended and they must choose a new one at next login.`,
      );
      if (!given) console.log(`Temporary password (shown once): ${password}`);
      return 0;
    }
    case "start":
      await import("./main.js");
      return -1;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return 0;
    default:
      throw new UsageError(`Unknown command: ${command}`);
  }
}

class UsageError extends Error {}

run(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error)) {
      console.error(`${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    if (error instanceof AppError) {
      const details = error.errors?.map((e) => `  - ${e.path}: ${e.message}`).join("\n");
      console.error(`Error: ${error.message}${details ? `\n${details}` : ""}`);
      process.exit(1);
    }
    console.error(error);
    process.exit(1);
  },
);
