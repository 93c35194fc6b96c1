import { useEffect, useState } from "react";
import { Dialog, DialogActions } from "../../components/dialog";
import { EmailText } from "../../components/email-text";
import { useFormatDate } from "../../use-format-date";
import { useSessionInfo } from "../../use-session";

type Props = {
  codes: readonly string[];
  /**
   * Why the codes are shown: right after turning MFA on, or after replacing the old ones; or to an
   * admin who issued new ones for a member or looks at a member's unused ones.
   */
  reason: "enabled" | "regenerated" | "issued" | "viewed";
  /** Whose codes, when they are not the viewer's own. */
  owner?: string;
  onClose: () => void;
};

/** Shows recovery codes once, with ways to keep them: copy, download as .txt, or write them down. */
export function RecoveryCodesDialog({ codes, reason, owner, onClose }: Props) {
  const { user } = useSessionInfo();
  const email = owner ?? user.email;
  const [copyNote, setCopyNote] = useState<string | null>(null);
  const [downloadUrl, setDownloadUrl] = useState<string | null>(null);
  const formatDate = useFormatDate();
  const [printedOn] = useState(() => formatDate(new Date().toISOString()));

  const text = codes.join("\n");
  useEffect(() => {
    const file = [
      `Gatehouse recovery codes for ${email}`,
      "Each code lets you log in once when you can't use your authenticator app.",
      "",
      text,
      "",
    ].join("\n");
    const url = URL.createObjectURL(new Blob([file], { type: "text/plain;charset=utf-8" }));
    setDownloadUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [text, email]);

  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setCopyNote("Copied to the clipboard.");
    } catch {
      // No clipboard access (an insecure origin, a denied permission): the codes are on screen to select.
      setCopyNote("Couldn't copy. Select the codes and copy them yourself.");
    }
  }

  return (
    <Dialog
      title={owner ? `Recovery codes of ${owner}` : "Save your recovery codes"}
      onClose={onClose}
      testId="recovery-dialog"
    >
      {/* Printing shows only what is inside .print-area: the heading below and the codes (styles.css). */}
      <span className="print-area-marker" hidden />
      <div className="print-only recovery-print-heading" data-testid="recovery-print-heading">
        <p className="recovery-print-title">Gatehouse recovery codes</p>
        <p>
          For <strong>{email}</strong> · printed {printedOn}
        </p>
        <p>Each code signs in once without the second factor. Keep this page somewhere safe.</p>
      </div>
      <div className="no-print">
        {reason === "enabled" ? (
          <p>
            Two-factor authentication is on. If you lose your phone, each of these codes lets you log in once.
          </p>
        ) : reason === "regenerated" ? (
          <p>These are your new recovery codes. The old ones no longer work.</p>
        ) : reason === "issued" ? (
          <p>
            New recovery codes for <EmailText email={owner ?? ""} />; their old ones no longer work. We
            emailed them that you made these. Pass them on by a channel you trust.
          </p>
        ) : (
          <p>
            The unused recovery codes of <EmailText email={owner ?? ""} />. We emailed them that you viewed
            them.
          </p>
        )}
        <p className="muted">
          {owner
            ? "Each code lets them log in once without their second factor."
            : "Keep them somewhere safe, like a password manager. They won't be shown again."}
        </p>
      </div>
      <ol className="recovery-codes" data-testid="recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code data-testid="recovery-code">{code}</code>
          </li>
        ))}
      </ol>
      <p className="field-hint recovery-codes-note no-print" role="status" data-testid="recovery-copy-note">
        {copyNote}
      </p>
      <DialogActions>
        <button type="button" className="button" onClick={onClose} data-testid="recovery-saved">
          {owner ? "Done" : "I saved them"}
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={copy}
          data-testid="recovery-copy"
          data-autofocus=""
        >
          Copy
        </button>
        <button
          type="button"
          className="button button-secondary"
          onClick={() => window.print()}
          data-testid="recovery-print"
        >
          Print
        </button>
        {downloadUrl ? (
          <a
            className="button button-secondary"
            href={downloadUrl}
            download="gatehouse-recovery-codes.txt"
            data-testid="recovery-download"
          >
            Download
          </a>
        ) : null}
      </DialogActions>
    </Dialog>
  );
}
