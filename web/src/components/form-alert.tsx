import type { ReactNode } from "react";

type Props = { children: ReactNode; tone?: "error" | "success" | "info"; testId?: string; id?: string };

/** Form-level message. Errors are announced (role="alert"); confirmations politely (role="status"). */
export function FormAlert({ children, tone = "error", testId, id }: Props) {
  return (
    <div
      id={id}
      className={`alert alert-${tone}`}
      role={tone === "error" ? "alert" : "status"}
      data-testid={testId}
    >
      {children}
    </div>
  );
}
