import { type ReactNode, useState } from "react";
import { Dialog, DialogActions } from "./dialog";
import { FormAlert } from "./form-alert";

/**
 * A secret shown once (an API key's, a webhook's signing secret): read-only, with a Copy button and the
 * warning that it will not be shown again. Closing asks nothing: the warning says it all. Test ids are
 * `<testPrefix>-secret-dialog`, `-secret`, `-copy`, `-copy-note`, `-secret-warning`, `-secret-done`.
 */
export function OneTimeSecretDialog({
  title,
  secret,
  testPrefix,
  usage,
  children,
  onClose,
}: {
  title: string;
  secret: string;
  testPrefix: string;
  /** After the warning: where to keep it ("Store it where the program that uses it reads its secrets."). */
  usage: ReactNode;
  /** Anything more to say under the warning. */
  children?: ReactNode;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState<string | null>(null);
  const inputId = `${testPrefix}-secret-value`;

  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("Copied");
    } catch {
      // No clipboard access (an insecure origin, a denied permission): the field is selectable.
      setCopied("Couldn't copy. Select the secret and copy it yourself.");
    }
  }

  return (
    <Dialog title={title} onClose={onClose} testId={`${testPrefix}-secret-dialog`}>
      <FormAlert tone="info" testId={`${testPrefix}-secret-warning`}>
        <strong>Copy it now — you won't be able to see it again.</strong> {usage}
      </FormAlert>
      {children}
      <div className="field">
        <label htmlFor={inputId}>Secret</label>
        <div className="secret-field">
          <input
            id={inputId}
            className="secret-input"
            data-testid={`${testPrefix}-secret`}
            readOnly
            value={secret}
            spellCheck={false}
            autoComplete="off"
            onFocus={(event) => event.currentTarget.select()}
          />
          <button
            type="button"
            className="button button-secondary"
            onClick={copy}
            data-testid={`${testPrefix}-copy`}
            data-autofocus=""
          >
            Copy
          </button>
        </div>
        <p className="field-hint" role="status" data-testid={`${testPrefix}-copy-note`}>
          {copied}
        </p>
      </div>
      <DialogActions>
        <button type="button" className="button" onClick={onClose} data-testid={`${testPrefix}-secret-done`}>
          Done
        </button>
      </DialogActions>
    </Dialog>
  );
}
