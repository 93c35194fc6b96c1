import { useId } from "react";
import type { RuleResult } from "../password-rules";
import { TextField } from "./field";
import { PasswordChecklist } from "./password-checklist";

type Props = {
  name: string;
  label: string;
  confirmLabel: string;
  value: string;
  confirm: string;
  onValueChange: (value: string) => void;
  onConfirmChange: (value: string) => void;
  error?: string | undefined;
  confirmError?: string | undefined;
  rules: RuleResult[];
};

/** A new password with its live policy checklist, then the confirmation field (name "confirm_password"). */
export function NewPasswordFields(props: Props) {
  const checklistId = useId();
  return (
    <>
      <TextField
        label={props.label}
        name={props.name}
        type="password"
        autoComplete="new-password"
        required
        value={props.value}
        onValueChange={props.onValueChange}
        error={props.error}
        describedById={checklistId}
      />
      <PasswordChecklist id={checklistId} rules={props.rules} />
      <TextField
        label={props.confirmLabel}
        name="confirm_password"
        type="password"
        autoComplete="new-password"
        required
        value={props.confirm}
        onValueChange={props.onConfirmChange}
        error={props.confirmError}
      />
    </>
  );
}
