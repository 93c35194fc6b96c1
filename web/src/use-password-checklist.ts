import { useEffect, useState } from "react";
import {
  type ChecklistContext,
  type ChecklistPolicy,
  evaluatePassword,
  type PasswordPerson,
  type RuleResult,
  type ServerPasswordFailure,
  type StrengthReading,
  strengthInputs,
} from "./password-rules";
import { loadStrengthChecker, strengthMessage } from "./password-strength";
import { useDebouncedValue } from "./use-debounced-value";

type Reading = StrengthReading & { inputs: string };

/**
 * The live checklist of a new-password field. The strength estimate's dictionaries load on the
 * first character typed (a separate download), and the estimate follows the typing after a pause.
 */
export function usePasswordChecklist(
  policy: ChecklistPolicy | null,
  password: string,
  serverFailures: readonly ServerPasswordFailure[],
  options: { person?: PasswordPerson | null; replacing?: boolean } = {},
): RuleResult[] {
  const inputs = strengthInputs(options.person).join("\n");
  const wanted = (policy?.min_strength ?? 0) > 0 && password !== "";
  const settled = useDebouncedValue(password, 150);
  const [reading, setReading] = useState<Reading | "unavailable" | null>(null);

  useEffect(() => {
    if (!wanted || settled === "") return;
    let cancelled = false;
    loadStrengthChecker().then(
      (check) => {
        if (cancelled) return;
        const strength = check(settled, inputs ? inputs.split("\n") : []);
        setReading({ password: settled, score: strength.score, message: strengthMessage(strength), inputs });
      },
      () => {
        if (!cancelled) setReading("unavailable");
      },
    );
    return () => {
      cancelled = true;
    };
  }, [wanted, settled, inputs]);

  // A reading for another password or other personal details is stale: still checking.
  const strength: ChecklistContext["strength"] =
    reading === "unavailable" ? reading : reading?.inputs === inputs ? reading : null;
  return evaluatePassword(policy, password, serverFailures, {
    person: options.person ?? null,
    replacing: options.replacing ?? false,
    strength,
  });
}
