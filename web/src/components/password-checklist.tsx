import type { RuleResult } from "../password-rules";

const STATUS_TEXT = {
  ok: "met",
  fail: "not met",
  pending: "checked when you submit",
  checking: "being checked",
} as const;
const STATUS_ICON = { ok: "✓", fail: "✗", pending: "•", checking: "…" } as const;

type Props = { id: string; rules: RuleResult[] };

export function PasswordChecklist({ id, rules }: Props) {
  if (rules.length === 0) return null;
  return (
    <ul id={id} className="checklist" aria-label="Password requirements">
      {rules.map((rule) => (
        <li
          key={rule.code}
          className={`checklist-item is-${rule.status}`}
          data-testid="policy-rule"
          data-rule={rule.code}
          data-status={rule.status}
          data-ok={rule.status === "ok" ? "true" : "false"}
        >
          <span className="checklist-icon" aria-hidden="true">
            {STATUS_ICON[rule.status]}
          </span>
          <span>
            {rule.label}
            <span className="visually-hidden"> ({STATUS_TEXT[rule.status]})</span>
            {rule.detail ? (
              <span className="checklist-detail" data-testid="policy-rule-detail">
                {rule.detail}
              </span>
            ) : null}
          </span>
        </li>
      ))}
    </ul>
  );
}
