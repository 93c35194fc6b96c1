// The OpenID Connect provider against the raw cost of its signatures (issue 18):
//  - token issuance: POST /oidc/token with client_credentials (one ES256 access token per request, through
//    HTTP, client authentication and the storage adapter) vs raw ES256 JWT signing with jose in this process;
//  - JWT verification: the SDK's verifyAccessToken (remote JWKS, cached) and Gatehouse's own Bearer check
//    (src/oidc/oidc.access-tokens.ts) on a token Gatehouse issued, vs raw jwtVerify with the same key.
// Usage: npm run bench:oidc [-- --seconds 5]   (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createLocalJWKSet, generateKeyPair, jwtVerify, SignJWT } from "jose";
import { verifyAccessToken } from "../packages/sdk/src/tokens.js";
import { createAccessTokenVerifier } from "../src/oidc/oidc.access-tokens.js";
import { measure, startServer } from "./lib.js";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "5" } } });
const seconds = Number(values.seconds);

/** Operations per second of `op` run `concurrency` at a time for `seconds`. */
async function rate(op: () => Promise<unknown>, concurrency = 4): Promise<number> {
  let done = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < until) {
        await op();
        done++;
      }
    }),
  );
  return done / seconds;
}

// Raw ES256 with jose, the provider's key type.
const { privateKey, publicKey } = await generateKeyPair("ES256");
const rawSign = () =>
  new SignJWT({ scope: "gatehouse:authz", client_id: "bench" })
    .setProtectedHeader({ alg: "ES256", typ: "at+jwt" })
    .setIssuer("https://bench.example/oidc")
    .setAudience("https://bench.example/api")
    .setSubject("bench")
    .setIssuedAt()
    .setExpirationTime("5m")
    .setJti(randomBytes(16).toString("base64url"))
    .sign(privateKey);
const sample = await rawSign();
const rawSignRate = await rate(rawSign);
const rawVerifyRate = await rate(() => jwtVerify(sample, publicKey));

const secret = randomBytes(24).toString("base64url");
const clientsFile = join(mkdtempSync(join(tmpdir(), "gatehouse-bench-oidc-")), "clients.json");
writeFileSync(
  clientsFile,
  JSON.stringify({
    clients: [
      {
        client_id: "bench-backend",
        name: "Bench backend",
        client_secret: secret,
        redirect_uris: ["https://bench.example/callback"],
        grant_types: ["client_credentials"],
      },
    ],
  }),
);

const rows: string[] = [];
const databases: Array<[string, string[]]> = [["SQLite", []]];
if (process.env.TEST_DATABASE_URL) databases.push(["PostgreSQL", [process.env.TEST_DATABASE_URL]]);
for (const [name, extra] of databases) {
  const server = await startServer(["gatehouse", ...extra], { OIDC_CLIENTS: clientsFile });
  try {
    const tokenRequest = {
      url: `${server.url}/oidc/token`,
      method: "POST" as const,
      headers: {
        authorization: `Basic ${Buffer.from(`bench-backend:${secret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "grant_type=client_credentials&scope=gatehouse%3Aauthz",
    };
    const issued = await fetch(tokenRequest.url, tokenRequest);
    if (issued.status !== 200)
      throw new Error(`token endpoint answered ${issued.status}: ${await issued.text()}`);
    const token = ((await issued.json()) as { access_token: string }).access_token;
    const issuance = await measure(tokenRequest, seconds, 4);

    // The server's PUBLIC_URL (its issuer) is not the address it listens on here: read them from the token.
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) as {
      iss: string;
      aud: string;
    };
    const { iss: issuer, aud: audience } = claims;
    const jwksUri = `${server.url}/oidc/jwks`;
    const jwks = (await (await fetch(jwksUri)).json()) as { keys: Array<Record<string, unknown>> };
    const sdk = () => verifyAccessToken(token, { issuer, audience, jwksUri });
    await sdk();
    const sdkRate = await rate(sdk);
    const own = createAccessTokenVerifier({ issuer, audience, keys: jwks.keys as never });
    const ownRate = await rate(() => own.verify(token));
    const localSet = createLocalJWKSet(jwks as never);
    const sameKeyRaw = await rate(() => jwtVerify(token, localSet));
    rows.push(
      `| token issuance (POST /oidc/token, client_credentials, 4 connections) | ${name} | ${issuance.rps.toFixed(0)}/s | ${((issuance.rps / rawSignRate) * 100).toFixed(0)}% of raw ES256 signing |`,
      `| SDK verifyAccessToken (remote JWKS, cached) | ${name} | ${sdkRate.toFixed(0)}/s | ${((sdkRate / rawVerifyRate) * 100).toFixed(0)}% of raw ES256 verification |`,
      `| Gatehouse's Bearer check (oidc.access-tokens.ts) | ${name} | ${ownRate.toFixed(0)}/s | ${((ownRate / rawVerifyRate) * 100).toFixed(0)}% of raw ES256 verification |`,
      `| jwtVerify of the issued token against its JWKS (local set) | ${name} | ${sameKeyRaw.toFixed(0)}/s | ${((sameKeyRaw / rawVerifyRate) * 100).toFixed(0)}% of raw ES256 verification |`,
    );
  } finally {
    server.child.kill("SIGTERM");
  }
}

console.log(
  [
    `Run: ${new Date().toISOString().slice(0, 10)}, ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}, ${seconds} s per figure. Raw ES256 with jose in this process, 4 at a time: signing ${rawSignRate.toFixed(0)}/s, verification ${rawVerifyRate.toFixed(0)}/s.`,
    "",
    "| what | database | rate | ratio |",
    "| --- | --- | ---: | ---: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
