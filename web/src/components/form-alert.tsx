import type { ReactNode } from "react";

type Props = {
  children: ReactNode;
  tone?: "error" | "success" | "info";
  testId?: string;
  id?: string;
  /** The API error code behind the message, for tests and support (`data-code`). */
  code?: string | null | undefined;
};

/** Form-level message. Errors are announced (role="alert"); confirmations politely (role="status"). */
export function FormAlert({ children, tone = "error", testId, id, code }: Props) {
  return (
    <div
      id={id}
      className={`alert alert-${tone}`}
      role={tone === "error" ? "alert" : "status"}
      data-testid={testId}
      data-code={code ?? undefined}
    >
      {children}
    </div>
  );
}
