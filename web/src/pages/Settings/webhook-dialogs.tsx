import { type FormEvent, useState } from "react";
import { ConfirmDialog } from "../../components/confirm-dialog";
import { Dialog, DialogActions } from "../../components/dialog";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { OneTimeSecretDialog } from "../../components/one-time-secret";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { Webhook, WebhookWithSecret } from "../../types";
import { useApi } from "../../use-api";
import { usePermissions } from "../../use-permissions";
import { useSaveDialog } from "../../use-save-dialog";
import { webhookHost } from "../../webhooks";
import { EventTypePicker } from "./event-type-picker";
import { useEventTypes, useWebhookPaths } from "./webhooks-data";

const FIELDS = ["url", "description", "events", "enabled"] as const;

/** The plan allows no more endpoints (402 `plan_limit_reached`): say so, and where to change the plan. */
function PlanLimitAlert() {
  const { can } = usePermissions();
  return (
    <FormAlert code="plan_limit_reached" testId="webhook-plan-limit">
      The account's plan allows no more webhook endpoints. Delete one you no longer use, or{" "}
      {can("billing:read") ? (
        <Link to={settingsPage("billing").path}>upgrade the plan in Billing</Link>
      ) : (
        "ask someone who manages billing to upgrade the plan"
      )}
      .
    </FormAlert>
  );
}

type Form = { url: string; description: string; events: string[]; enabled: boolean };

/** What the browser checks itself: only that something was typed and chosen (the server checks the rest). */
function missing(form: Form): Record<string, string> {
  const fields: Record<string, string> = {};
  if (!form.url.trim()) fields.url = "Enter the URL that receives the events.";
  if (form.events.length === 0) fields.events = "Choose at least one event, or All events.";
  return fields;
}

function WebhookForm({
  form,
  setForm,
  errors,
  clearError,
  withEnabled,
}: {
  form: Form;
  setForm: (change: (current: Form) => Form) => void;
  errors: ReturnType<typeof useSaveDialog>["errors"];
  clearError: (field: string) => void;
  withEnabled: boolean;
}) {
  const catalog = useEventTypes();
  return (
    <>
      {errors.code === "plan_limit_reached" ? (
        <PlanLimitAlert />
      ) : errors.form ? (
        <FormAlert code={errors.code} testId="webhook-form-error">
          {errors.form}
        </FormAlert>
      ) : null}
      <TextField
        label="Endpoint URL"
        name="url"
        type="url"
        required
        inputMode="url"
        autoComplete="off"
        spellCheck={false}
        placeholder="https://example.com/webhooks/gatehouse"
        hint="Gatehouse POSTs each event here, signed with the endpoint's secret (Standard Webhooks)."
        value={form.url}
        onValueChange={(url) => {
          setForm((current) => ({ ...current, url }));
          clearError("url");
        }}
        error={errors.fields.url}
        maxLength={2048}
      />
      <TextField
        label="Description (optional)"
        name="description"
        hint="What receives them: “CRM sync”, “Slack alerts”."
        value={form.description}
        onValueChange={(description) => {
          setForm((current) => ({ ...current, description }));
          clearError("description");
        }}
        error={errors.fields.description}
        maxLength={200}
      />
      {withEnabled ? (
        <div className="checkbox-option field">
          <input
            id="webhook-enabled"
            type="checkbox"
            name="enabled"
            checked={form.enabled}
            onChange={(event) => {
              const enabled = event.target.checked;
              setForm((current) => ({ ...current, enabled }));
              clearError("enabled");
            }}
            aria-describedby="webhook-enabled-hint"
          />
          <label htmlFor="webhook-enabled">Enabled</label>
          <span id="webhook-enabled-hint" className="field-hint">
            A disabled endpoint gets no deliveries; events meanwhile are not sent later.
          </span>
        </div>
      ) : null}
      <EventTypePicker
        types={catalog.types}
        typesError={catalog.error}
        selected={form.events}
        onChange={(events) => {
          setForm((current) => ({ ...current, events }));
          clearError("events");
        }}
        error={errors.fields.events}
      />
    </>
  );
}

/** `POST …/webhooks`: URL, description and events; the answer's secret goes to `onCreated`. */
export function CreateWebhookDialog({
  onClose,
  onCreated,
}: {
  onClose: () => void;
  onCreated: (webhook: WebhookWithSecret) => void;
}) {
  const paths = useWebhookPaths();
  const [form, setForm] = useState<Form>({ url: "", description: "", events: [], enabled: true });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields = missing(form);
    if (Object.keys(fields).length > 0) return refuse(fields);
    await save<WebhookWithSecret>(
      { create: paths.list },
      {
        url: form.url.trim(),
        events: form.events,
        ...(form.description.trim() ? { description: form.description.trim() } : {}),
      },
      onCreated,
    );
  }

  return (
    <Dialog title="New webhook endpoint" onClose={onClose} busy={busy} wide testId="webhook-create-dialog">
      <form ref={formRef} onSubmit={submit} noValidate>
        <WebhookForm
          form={form}
          setForm={setForm}
          errors={errors}
          clearError={clearError}
          withEnabled={false}
        />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="webhook-create-submit">
            {busy ? "Adding…" : "Add endpoint"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** `PATCH …/webhooks/{id}`: URL, description, events, enabled. */
export function EditWebhookDialog({
  webhook,
  onClose,
  onSaved,
}: {
  webhook: Webhook;
  onClose: () => void;
  onSaved: (webhook: Webhook) => void;
}) {
  const paths = useWebhookPaths();
  const [form, setForm] = useState<Form>({
    url: webhook.url,
    description: webhook.description ?? "",
    events: webhook.events,
    enabled: webhook.enabled,
  });
  const { errors, formRef, busy, clearError, refuse, save } = useSaveDialog(FIELDS);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const fields = missing(form);
    if (Object.keys(fields).length > 0) return refuse(fields);
    await save<Webhook>(
      { update: paths.webhook(webhook.id) },
      {
        url: form.url.trim(),
        events: form.events,
        enabled: form.enabled,
        description: form.description.trim() || null,
      },
      onSaved,
    );
  }

  return (
    <Dialog
      title={`Edit ${webhookHost(webhook.url)}`}
      onClose={onClose}
      busy={busy}
      wide
      testId="webhook-edit-dialog"
    >
      <form ref={formRef} onSubmit={submit} noValidate>
        <WebhookForm form={form} setForm={setForm} errors={errors} clearError={clearError} withEnabled />
        <DialogActions>
          <button type="submit" className="button" disabled={busy} data-testid="webhook-edit-submit">
            {busy ? "Saving…" : "Save endpoint"}
          </button>
          <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
            Cancel
          </button>
        </DialogActions>
      </form>
    </Dialog>
  );
}

/** The signing secret, shown once after adding an endpoint or rotating its secret. */
export function WebhookSecretDialog({
  webhook,
  reason,
  onClose,
}: {
  webhook: WebhookWithSecret;
  reason: "created" | "rotated";
  onClose: () => void;
}) {
  const host = webhookHost(webhook.url);
  return (
    <OneTimeSecretDialog
      title={reason === "created" ? `${host}: its signing secret` : `${host}: the new signing secret`}
      secret={webhook.secret}
      testPrefix="webhook"
      usage="The receiver needs it to check each delivery's webhook-signature header."
      onClose={onClose}
    >
      {reason === "rotated" ? (
        <p className="muted">Deliveries from now on are signed with the new secret only.</p>
      ) : null}
    </OneTimeSecretDialog>
  );
}

/** Rotate the signing secret; the new one replaces the question. */
export function RotateWebhookSecretDialog({
  webhook,
  onClose,
  onRotated,
}: {
  webhook: Webhook;
  onClose: () => void;
  onRotated: (webhook: WebhookWithSecret) => void;
}) {
  const api = useApi();
  const paths = useWebhookPaths();
  return (
    <ConfirmDialog
      title={`Rotate the signing secret of ${webhookHost(webhook.url)}?`}
      confirmLabel="Rotate secret"
      busyLabel="Rotating…"
      testId="webhook-rotate-dialog"
      onClose={onClose}
      onConfirm={async () => {
        onRotated(await api.post<WebhookWithSecret>(paths.rotate(webhook.id)));
        // The secret dialog takes this one's place.
        return false;
      }}
    >
      <p>
        You get a new secret, shown once. Deliveries are signed with it at once: the receiver fails to verify
        them until it has the new secret.
      </p>
    </ConfirmDialog>
  );
}

export function DeleteWebhookDialog({
  webhook,
  onClose,
  onDeleted,
}: {
  webhook: Webhook;
  onClose: () => void;
  onDeleted: () => void;
}) {
  const api = useApi();
  const paths = useWebhookPaths();
  return (
    <ConfirmDialog
      title={`Delete the endpoint ${webhookHost(webhook.url)}?`}
      confirmLabel="Delete endpoint"
      busyLabel="Deleting…"
      dismissLabel="Keep endpoint"
      danger
      testId="webhook-delete-dialog"
      onClose={onClose}
      onConfirm={async () => {
        await api.delete(paths.webhook(webhook.id));
        onDeleted();
      }}
    >
      <p>
        {webhook.url} gets no more events, and its delivery log goes with it. Pending retries are dropped.
        This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}
