import { type Algorithm, hash, verify } from "@node-rs/argon2";

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
// Algorithm is a const enum, which verbatimModuleSyntax cannot import: 2 is Algorithm.Argon2id.
export const ARGON2_PARAMS = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

export type PasswordHasher = {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  needsRehash(hash: string): boolean;
  /** Spends the same time as a real check, for emails that have no user. */
  verifyDummy(password: string): Promise<void>;
};

export function createPasswordHasher(params = ARGON2_PARAMS): PasswordHasher {
  let dummy: Promise<string> | undefined;
  const expected = `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
  return {
    hash: (password) => hash(password, params),
    verify: async (stored, password) => {
      try {
        return await verify(stored, password);
      } catch {
        return false;
      }
    },
    needsRehash: (stored) => !stored.startsWith(expected),
    verifyDummy: async (password) => {
      dummy ??= hash("gatehouse-dummy-password", params);
      await verify(await dummy, password).catch(() => false);
    },
  };
}
