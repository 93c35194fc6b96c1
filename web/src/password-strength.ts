// The strength estimate the server applies (src/auth/password-strength.ts): the same library,
// dictionaries and options, so the checklist agrees with the server. The ~1.5 MB of dictionaries
// load on first use, in their own chunks, never in the main bundle.
import type { ZxcvbnFactory } from "@zxcvbn-ts/core";

export type Strength = { score: number; warning: string | null; suggestions: string[] };
export type StrengthChecker = (password: string, userInputs: readonly string[]) => Strength;

/** Must match STRENGTH_OPTIONS on the server. */
export const STRENGTH_OPTIONS = { maxLength: 64, l33tMaxSubstitutions: 4 } as const;

let loading: Promise<StrengthChecker> | undefined;

export function loadStrengthChecker(): Promise<StrengthChecker> {
  loading ??= Promise.all([
    import("@zxcvbn-ts/core"),
    import("@zxcvbn-ts/language-common"),
    import("@zxcvbn-ts/language-en"),
  ]).then(
    ([core, common, en]) => {
      const zxcvbn: ZxcvbnFactory = new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
        ...STRENGTH_OPTIONS,
      });
      return (password, userInputs) => {
        const result = zxcvbn.check(password, [...userInputs]);
        return {
          score: result.score,
          warning: result.feedback.warning || null,
          suggestions: result.feedback.suggestions,
        };
      };
    },
    (error: unknown) => {
      // A failed download (offline, new deployment) may work on the next try.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** zxcvbn's feedback as one message, worded like the server's `min_strength` error. */
export function strengthMessage(strength: Strength): string {
  const parts = [strength.warning, ...strength.suggestions].filter((part): part is string => !!part);
  return parts.length ? parts.join(" ") : "Too easy to guess: add another word or two that are less common.";
}
