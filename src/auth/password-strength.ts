import type { ZxcvbnFactory } from "@zxcvbn-ts/core";

/** zxcvbn's score: 0 too guessable … 4 very unguessable. */
export type StrengthScore = 0 | 1 | 2 | 3 | 4;
export type Strength = { score: StrengthScore; warning: string | null; suggestions: string[] };

/**
 * Only the first 64 characters are scored (more can only add guesses) and at most 4 l33t
 * substitutions are tried: unbounded, one 256-character password cost 1.5 s of CPU (bench/RESULTS.md).
 * The web app (web/src/password-strength.ts) uses the same options so both give the same score.
 */
export const STRENGTH_OPTIONS = { maxLength: 64, l33tMaxSubstitutions: 4 } as const;

let checker: Promise<ZxcvbnFactory> | undefined;

// The dictionaries are ~3 MB of JavaScript: loaded on the first password set, once per process.
function loadChecker(): Promise<ZxcvbnFactory> {
  checker ??= Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-en"),
  ]).then(
    ([core, common, en]) =>
      new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
        ...STRENGTH_OPTIONS,
      }),
    (error: unknown) => {
      checker = undefined;
      throw error;
    },
  );
  return checker;
}

/** How hard `password` is to guess; `userInputs` (the person's email, names, account names) count as easy words. */
export async function passwordStrength(password: string, userInputs: readonly string[]): Promise<Strength> {
  const result = (await loadChecker()).check(password, [...userInputs]);
  return {
    score: result.score as StrengthScore,
    warning: result.feedback.warning || null,
    suggestions: result.feedback.suggestions,
  };
}

/** zxcvbn's feedback as one message; a weak password with nothing specific to say gets a generic hint. */
export function strengthMessage(strength: Strength): string {
  const parts = [strength.warning, ...strength.suggestions].filter((part): part is string => !!part);
  return parts.length ? parts.join(" ") : "Too easy to guess: add another word or two that are less common.";
}
