import { useState } from "react";
import { Dialog } from "../../components/dialog";
import type { EmailEnrollment, TotpVerification } from "../../types";
import { useApi } from "../../use-api";
import { useSessionInfo } from "../../use-session";
import { CodeVerifyForm } from "./code-verify-form";

type Props = {
  enrollment: EmailEnrollment;
  onVerified: (result: TotpVerification) => void;
  /** Like an unverified app, an unverified email factor never counts. */
  onClose: () => void;
};

/** Step two of turning on email codes: the server has mailed a code; typing it back confirms the factor. */
export function EmailEnrollDialog({ enrollment, onVerified, onClose }: Props) {
  const api = useApi();
  const { user } = useSessionInfo();
  const [factorId, setFactorId] = useState(enrollment.factor_id);
  const [busy, setBusy] = useState(false);

  return (
    <Dialog title="Turn on email codes" onClose={onClose} busy={busy} testId="email-dialog">
      <CodeVerifyForm
        intro={
          <p data-testid="email-dialog-sent">
            We sent a 6-digit code to <strong>{user.email}</strong>. Enter it below to confirm you get our
            emails.
          </p>
        }
        source="the email"
        verifyPath={`/me/mfa/email/${encodeURIComponent(factorId)}/verify`}
        // A new send starts a new enrollment: the code in the new email belongs to the new factor id.
        resend={async () => setFactorId((await api.post<EmailEnrollment>("/me/mfa/email")).factor_id)}
        onVerified={onVerified}
        onClose={onClose}
        testPrefix="email"
        onBusyChange={setBusy}
      />
    </Dialog>
  );
}
