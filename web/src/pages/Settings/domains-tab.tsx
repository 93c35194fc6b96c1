import { type FormEvent, useState } from "react";
import { ApiError } from "../../api";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { explainError } from "../../error-messages";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { CustomDomain, DomainStatus } from "../../types";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { useFormatDate } from "../../use-format-date";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useToast } from "../../use-toast";
import { useAccountPath } from "./account-data";

const STATUS: Record<DomainStatus, { label: string; badge: string }> = {
  pending: { label: "Pending", badge: "badge-warning" },
  verified: { label: "Verified", badge: "badge-success" },
  failed: { label: "Failed", badge: "badge-danger" },
};

export function DomainsTab() {
  const { can } = usePermissions();
  const base = `${useAccountPath()}/domains`;
  const domains = useResource<{ data: CustomDomain[] }>(base);
  const [added, setAdded] = useState<CustomDomain[]>([]);
  const [changed, setChanged] = useState<Record<string, CustomDomain | null>>({});
  const editable = can("account:update");

  const loaded = domains.data?.data ?? [];
  const list = [...loaded, ...added.filter((domain) => !loaded.some((other) => other.id === domain.id))]
    .map((domain) => (domain.id in changed ? changed[domain.id] : domain))
    .filter((domain): domain is CustomDomain => Boolean(domain));

  return (
    <div className="stack">
      <section className="card" aria-labelledby="domains-heading">
        <h2 id="domains-heading">Custom domains</h2>
        <p className="muted">
          Serve the account's branded login page from your own domain, like <code>login.example.com</code>.
          Publish the two DNS records shown, then verify. Gatehouse's proxy gets the certificate (SSL) once
          the domain is verified.
        </p>
        {editable ? (
          <AddDomainForm path={base} onAdded={(domain) => setAdded((current) => [...current, domain])} />
        ) : (
          <p className="muted" data-testid="domains-read-only">
            Your role can see the account's domains but not change them.
          </p>
        )}
      </section>
      {domains.error && !domains.data ? (
        <FormAlert testId="domains-load-error">
          <p>The domains could not be loaded: {domains.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={domains.reload}>
            Try again
          </button>
        </FormAlert>
      ) : !domains.data ? (
        <section className="card" aria-label="Domains">
          <LoadingBlock label="Loading domains…" />
        </section>
      ) : list.length === 0 ? (
        <p className="muted" data-testid="domains-empty">
          No custom domains yet. {editable ? "Add one above to get its DNS records." : ""}
        </p>
      ) : (
        list.map((domain) => (
          <DomainCard
            key={domain.id}
            domain={domain}
            path={`${base}/${encodeURIComponent(domain.id)}`}
            editable={editable}
            onChange={(next) => setChanged((current) => ({ ...current, [domain.id]: next }))}
          />
        ))
      )}
    </div>
  );
}

const FIELDS = ["hostname"] as const;

function AddDomainForm({ path, onAdded }: { path: string; onAdded: (domain: CustomDomain) => void }) {
  const api = useApi();
  const toast = useToast();
  const [hostname, setHostname] = useState("");
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    // People paste addresses: keep the host of "https://login.example.com/".
    const value = hostname
      .trim()
      .replace(/^[a-z]+:\/\//i, "")
      .replace(/[/?#].*$/, "")
      .replace(/\.$/, "")
      .toLowerCase();
    if (!value) return refuse({ hostname: "Enter a hostname, like login.example.com." });
    setBusy(true);
    clear();
    try {
      const domain = await api.post<CustomDomain>(path, { hostname: value });
      onAdded(domain);
      setHostname("");
      toast.show({ text: `Added ${domain.hostname}. Publish its DNS records, then verify.` });
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form ref={formRef} onSubmit={submit} noValidate className="domain-add" data-testid="domain-add-form">
      {errors.code === "plan_limit_reached" ? (
        <DomainsUpgradePrompt />
      ) : errors.form ? (
        <FormAlert testId="domain-add-error" code={errors.code}>
          {errors.form}
        </FormAlert>
      ) : null}
      <div className="inline-form">
        <TextField
          label="Hostname"
          name="hostname"
          inputMode="url"
          autoCapitalize="none"
          autoComplete="off"
          spellCheck={false}
          placeholder="login.example.com"
          maxLength={253}
          value={hostname}
          onValueChange={(value) => {
            setHostname(value);
            edited("hostname");
          }}
          error={errors.fields.hostname}
        />
        <button type="submit" className="button inline-form-button" disabled={busy} data-testid="domain-add">
          {busy ? "Adding…" : "Add domain"}
        </button>
      </div>
    </form>
  );
}

/** 402 `plan_limit_reached`: custom domains need the Team plan or above. */
function DomainsUpgradePrompt() {
  const { can } = usePermissions();
  return (
    <div
      className="seat-limit-prompt"
      role="alert"
      data-testid="domains-upgrade-prompt"
      data-code="plan_limit_reached"
    >
      <span className="seat-limit-text">
        Custom domains come with the Team plan and above.{" "}
        {can("billing:read") ? "Upgrade to add one." : "Ask someone who manages billing to upgrade the plan."}
      </span>
      {can("billing:read") ? (
        <Link to={settingsPage("billing").path} className="button button-small" data-testid="upgrade-link">
          Upgrade plan
        </Link>
      ) : null}
    </div>
  );
}

function DomainCard({
  domain,
  path,
  editable,
  onChange,
}: {
  domain: CustomDomain;
  path: string;
  editable: boolean;
  onChange: (domain: CustomDomain | null) => void;
}) {
  const api = useApi();
  const toast = useToast();
  const formatDate = useFormatDate();
  const [verifying, setVerifying] = useState(false);
  const [error, setError] = useState<{ text: string; code: string | null } | null>(null);
  const [deleting, setDeleting] = useState(false);
  const status = STATUS[domain.status] ?? STATUS.pending;
  const headingId = `domain-${domain.id}-heading`;

  async function verify() {
    setVerifying(true);
    setError(null);
    try {
      const checked = await api.post<CustomDomain>(`${path}/verify`);
      onChange(checked);
      // Not verified: the card says why (a failure stays on the page, not in a toast).
      if (checked.status === "verified") toast.show({ text: `${checked.hostname} is verified.` });
    } catch (caught) {
      setError({ text: explainError(caught), code: caught instanceof ApiError ? caught.code : null });
    } finally {
      setVerifying(false);
    }
  }

  return (
    <section
      className="card domain-card"
      aria-labelledby={headingId}
      data-testid="domain-row"
      data-hostname={domain.hostname}
      data-domain-id={domain.id}
      data-status={domain.status}
    >
      <div className="card-header">
        <h2 id={headingId} className="domain-hostname">
          {domain.hostname}
        </h2>
        <span className={`badge ${status.badge}`} data-testid="domain-status">
          {status.label}
        </span>
      </div>
      {domain.status === "failed" && domain.failure_reason ? (
        <FormAlert testId="domain-failure">{domain.failure_reason}</FormAlert>
      ) : domain.status === "pending" && domain.failure_reason ? (
        <p className="field-hint" data-testid="domain-failure">
          Last check: {domain.failure_reason}
        </p>
      ) : null}
      {error ? (
        <FormAlert testId="domain-error" code={error.code}>
          {error.text}
        </FormAlert>
      ) : null}
      <p className="muted domain-dates">
        {domain.verified_at ? <>Verified {formatDate(domain.verified_at)}. </> : null}
        {domain.last_checked_at ? (
          <span data-testid="domain-last-checked">Last checked {formatDate(domain.last_checked_at)}.</span>
        ) : (
          "Not checked yet."
        )}
      </p>
      <div className="table-wrap">
        <table className="table dns-records">
          <caption className="visually-hidden">DNS records to publish for {domain.hostname}</caption>
          <thead>
            <tr>
              <th scope="col">Type</th>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
            </tr>
          </thead>
          <tbody>
            <tr data-testid="dns-txt">
              <td>TXT</td>
              <td>
                <CopyableValue value={domain.txt_record.name} what="TXT record name" testId="txt-name" />
              </td>
              <td>
                <CopyableValue value={domain.txt_record.value} what="TXT record value" testId="txt-value" />
              </td>
            </tr>
            <tr data-testid="dns-cname">
              <td>CNAME</td>
              <td>
                <CopyableValue value={domain.hostname} what="CNAME name" testId="cname-name" />
              </td>
              <td>
                <CopyableValue value={domain.cname_target} what="CNAME target" testId="cname-target" />
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      {editable ? (
        <div className="actions">
          <button
            type="button"
            className={domain.status === "verified" ? "button button-secondary" : "button"}
            onClick={() => void verify()}
            disabled={verifying}
            data-testid="domain-verify"
          >
            {verifying ? "Checking DNS…" : domain.status === "verified" ? "Check again" : "Verify"}
          </button>
          <button
            type="button"
            className="button button-danger"
            onClick={() => setDeleting(true)}
            data-testid="domain-delete"
          >
            Delete
          </button>
        </div>
      ) : null}
      {deleting ? (
        <ConfirmDialog
          title={`Delete ${domain.hostname}?`}
          confirmLabel="Delete domain"
          busyLabel="Deleting…"
          danger
          onConfirm={async () => {
            await api.delete(path);
            onChange(null);
            toast.show({ text: `Deleted ${domain.hostname}.` });
          }}
          onClose={() => setDeleting(false)}
        >
          <p>
            The login page stops answering at {domain.hostname}, and mails link to Gatehouse's own address
            again. People signed in there must sign in again. Adding it back needs a new DNS check.
          </p>
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

/** A DNS value to paste into the provider's console: shown in full, with a Copy button. */
function CopyableValue({ value, what, testId }: { value: string; what: string; testId: string }) {
  const [note, setNote] = useState<string | null>(null);
  async function copy() {
    try {
      await navigator.clipboard.writeText(value);
      setNote("Copied");
    } catch {
      setNote("Couldn't copy: select the text and copy it yourself.");
    }
  }
  return (
    <span className="copyable">
      <code data-testid={testId}>{value}</code>
      <button
        type="button"
        className="button button-ghost button-small"
        onClick={() => void copy()}
        aria-label={`Copy the ${what}`}
        data-testid={`${testId}-copy`}
      >
        Copy
      </button>
      <span className="copy-note field-hint" role="status">
        {note}
      </span>
    </span>
  );
}
