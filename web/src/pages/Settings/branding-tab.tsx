import { type FormEvent, useEffect, useId, useState } from "react";
import {
  checkBrandColour,
  EMAIL_TEMPLATES,
  type EmailTemplate,
  formatRatio,
  LOGIN_MESSAGE_MAX,
  MIN_BACKGROUND_CONTRAST,
  normalizeHex,
  TEMPLATE_VARIABLES,
  unknownVariables,
} from "../../branding";
import { describedBy, FieldFrame, SelectField, TextAreaField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingCard } from "../../components/skeleton";
import { explainError } from "../../error-messages";
import type { Branding, MailPreview } from "../../types";
import { useApi } from "../../use-api";
import { useDebouncedValue } from "../../use-debounced-value";
import { useFormErrors } from "../../use-form-errors";
import { usePermissions } from "../../use-permissions";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { useAccountPath } from "./account-data";
import { announceBrandingChange } from "./branding-data";

const TEMPLATE_NAMES: Record<EmailTemplate, string> = { invitation: "Invitation", welcome: "Welcome" };

/** Gatehouse's own primary colour (styles.css `--accent`, light theme): the picker starts there. */
const DEFAULT_COLOUR = "#3350d0";

export function BrandingTab() {
  const { can } = usePermissions();
  const branding = useResource<Branding>(`${useAccountPath()}/branding`);
  const [saved, setSaved] = useState<Branding | null>(null);
  const shown = saved ?? branding.data;
  return (
    <div className="stack">
      {shown ? (
        <BrandingEditor saved={shown} editable={can("account:update")} onSaved={setSaved} />
      ) : branding.error ? (
        <FormAlert testId="branding-load-error">
          <p>The branding could not be loaded: {branding.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={branding.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingCard label="Loading the branding…" lines={8} />
      )}
    </div>
  );
}

type TemplateForm = { subject: string; intro: string };

type BrandingForm = {
  /** "" = Gatehouse's default colour. */
  primary_color: string;
  login_message: string;
  support_url: string;
  support_email: string;
  privacy_url: string;
  terms_url: string;
  email_templates: Record<EmailTemplate, TemplateForm>;
};

const LINK_FIELDS = ["support_url", "support_email", "privacy_url", "terms_url"] as const;

const FIELDS = [
  "primary_color",
  "login_message",
  ...LINK_FIELDS,
  ...EMAIL_TEMPLATES.flatMap((template) => [
    `email_templates.${template}.subject`,
    `email_templates.${template}.intro`,
  ]),
  "email_templates",
] as const;

function formFromBranding(branding: Branding): BrandingForm {
  const template = (name: EmailTemplate): TemplateForm => ({
    subject: branding.email_templates?.[name]?.subject ?? "",
    intro: branding.email_templates?.[name]?.intro ?? "",
  });
  return {
    primary_color: branding.primary_color ?? "",
    login_message: branding.login_message ?? "",
    support_url: branding.support_url ?? "",
    support_email: branding.support_email ?? "",
    privacy_url: branding.privacy_url ?? "",
    terms_url: branding.terms_url ?? "",
    email_templates: { invitation: template("invitation"), welcome: template("welcome") },
  };
}

const orNull = (value: string) => (value.trim() === "" ? null : value.trim());

/** The branding as the API takes it (PATCH and the preview's unsaved values): "" is null, the default. */
function toApi(form: BrandingForm) {
  return {
    primary_color: form.primary_color ? (normalizeHex(form.primary_color) ?? form.primary_color) : null,
    login_message: form.login_message.trim() === "" ? null : form.login_message,
    support_url: orNull(form.support_url),
    support_email: orNull(form.support_email),
    privacy_url: orNull(form.privacy_url),
    terms_url: orNull(form.terms_url),
    email_templates: Object.fromEntries(
      EMAIL_TEMPLATES.map((name) => [
        name,
        {
          subject: orNull(form.email_templates[name].subject),
          intro: orNull(form.email_templates[name].intro),
        },
      ]),
    ) as Branding["email_templates"],
  };
}

function BrandingEditor({
  saved,
  editable,
  onSaved,
}: {
  saved: Branding;
  editable: boolean;
  onSaved: (branding: Branding) => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  const [form, setForm] = useState<BrandingForm>(() => formFromBranding(saved));
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const baseline = toApi(formFromBranding(saved));
  const current = toApi(form);
  const changed = (Object.keys(current) as Array<keyof typeof current>).filter(
    (key) => JSON.stringify(current[key]) !== JSON.stringify(baseline[key]),
  );

  function update(field: string, change: (form: BrandingForm) => BrandingForm) {
    setForm(change);
    edited(field);
    setStatus("idle");
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (changed.length === 0) {
      setStatus("saved");
      return;
    }
    if (form.primary_color && !normalizeHex(form.primary_color)) {
      refuse({ primary_color: "Enter a colour as six hexadecimal digits, like #1a7f5a." });
      return;
    }
    const patch = Object.fromEntries(changed.map((key) => [key, current[key]]));
    setStatus("saving");
    clear();
    try {
      const updated = await api.patch<Branding>(`${base}/branding`, patch);
      onSaved(updated);
      setForm(formFromBranding(updated));
      announceBrandingChange();
      setStatus("saved");
    } catch (error) {
      fail(error);
      setStatus("idle");
    }
  }

  function cancel() {
    setForm(formFromBranding(saved));
    clear();
    setStatus("idle");
  }

  const readOnly = !editable;
  const setTemplate = (template: EmailTemplate, part: keyof TemplateForm) => (value: string) =>
    update(`email_templates.${template}.${part}`, (current) => ({
      ...current,
      email_templates: {
        ...current.email_templates,
        [template]: { ...current.email_templates[template], [part]: value },
      },
    }));

  return (
    <div className="branding-layout">
      <form
        ref={formRef}
        className="stack branding-form"
        onSubmit={submit}
        noValidate
        aria-label="Branding"
        data-testid="branding-form"
      >
        {errors.form ? (
          <FormAlert testId="branding-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
        {editable ? null : (
          <p className="muted" data-testid="branding-read-only">
            Your role can see the account's branding but not change it.
          </p>
        )}
        <section className="card" aria-labelledby="brand-colour-heading">
          <h2 id="brand-colour-heading">Colour</h2>
          <ColourField
            value={form.primary_color}
            onChange={(primary_color) =>
              update("primary_color", (current) => ({ ...current, primary_color }))
            }
            error={errors.fields.primary_color}
            readOnly={readOnly}
          />
        </section>

        <section className="card" aria-labelledby="login-page-heading">
          <h2 id="login-page-heading">Login page</h2>
          <TextAreaField
            label="Welcome message"
            name="login_message"
            rows={3}
            value={form.login_message}
            onValueChange={(login_message) =>
              update("login_message", (current) => ({ ...current, login_message }))
            }
            error={errors.fields.login_message}
            readOnly={readOnly}
            hint={<MessageCounter length={[...form.login_message].length} />}
          />
          <div className="grid-2">
            <TextField
              label="Support page"
              name="support_url"
              type="url"
              inputMode="url"
              placeholder={editable ? "https://example.com/help" : undefined}
              value={form.support_url}
              onValueChange={(support_url) =>
                update("support_url", (current) => ({ ...current, support_url }))
              }
              error={errors.fields.support_url}
              readOnly={readOnly}
              spellCheck={false}
              autoCapitalize="none"
              maxLength={2048}
            />
            <TextField
              label="Support email"
              name="support_email"
              type="email"
              value={form.support_email}
              onValueChange={(support_email) =>
                update("support_email", (current) => ({ ...current, support_email }))
              }
              error={errors.fields.support_email}
              readOnly={readOnly}
              maxLength={254}
            />
            <TextField
              label="Privacy policy"
              name="privacy_url"
              type="url"
              inputMode="url"
              placeholder={editable ? "https://example.com/privacy" : undefined}
              value={form.privacy_url}
              onValueChange={(privacy_url) =>
                update("privacy_url", (current) => ({ ...current, privacy_url }))
              }
              error={errors.fields.privacy_url}
              readOnly={readOnly}
              spellCheck={false}
              autoCapitalize="none"
              maxLength={2048}
            />
            <TextField
              label="Terms of service"
              name="terms_url"
              type="url"
              inputMode="url"
              placeholder={editable ? "https://example.com/terms" : undefined}
              value={form.terms_url}
              onValueChange={(terms_url) => update("terms_url", (current) => ({ ...current, terms_url }))}
              error={errors.fields.terms_url}
              readOnly={readOnly}
              spellCheck={false}
              autoCapitalize="none"
              maxLength={2048}
            />
          </div>
          <p className="field-hint">
            The login page and the account's mails link to these. Leave empty for none.
          </p>
        </section>

        <section className="card" aria-labelledby="email-templates-heading">
          <h2 id="email-templates-heading">Email text</h2>
          <p className="muted">
            Replace the subject and the first paragraph of the invitation and welcome mails. Leave empty for
            Gatehouse's wording. Only the variables listed are filled in; everything else is sent as written.
          </p>
          {errors.fields.email_templates ? (
            <p className="field-error">{errors.fields.email_templates}</p>
          ) : null}
          {EMAIL_TEMPLATES.map((template) => (
            <fieldset key={template} className="field fieldset-plain" data-testid={`template-${template}`}>
              <legend>{TEMPLATE_NAMES[template]} mail</legend>
              <TemplateVariables template={template} variables={saved.template_variables?.[template]} />
              <TextField
                label="Subject"
                name={`email_templates.${template}.subject`}
                maxLength={200}
                value={form.email_templates[template].subject}
                onValueChange={setTemplate(template, "subject")}
                error={errors.fields[`email_templates.${template}.subject`]}
                readOnly={readOnly}
                hint={unknownHint(form.email_templates[template].subject, template, saved)}
              />
              <TextAreaField
                label="Introduction"
                name={`email_templates.${template}.intro`}
                rows={3}
                maxLength={2000}
                value={form.email_templates[template].intro}
                onValueChange={setTemplate(template, "intro")}
                error={errors.fields[`email_templates.${template}.intro`]}
                readOnly={readOnly}
                hint={unknownHint(form.email_templates[template].intro, template, saved)}
              />
            </fieldset>
          ))}
        </section>

        {editable ? (
          <div className="actions">
            <button
              type="submit"
              className="button"
              disabled={status === "saving"}
              data-testid="branding-save"
            >
              {status === "saving" ? "Saving…" : "Save branding"}
            </button>
            <button
              type="button"
              className="button button-secondary"
              onClick={cancel}
              disabled={status === "saving" || changed.length === 0}
            >
              Cancel
            </button>
            {status === "saved" ? (
              <span className="saved-note" role="status" data-testid="branding-saved">
                Branding saved.
              </span>
            ) : null}
          </div>
        ) : null}
      </form>
      <div className="stack branding-previews">
        <LoginPreview form={form} logoUrl={saved.logo_url} />
        {editable ? <MailPreviewCard branding={current} /> : null}
      </div>
    </div>
  );
}

function allowedVariables(template: EmailTemplate, saved: Branding): readonly string[] {
  return saved.template_variables?.[template] ?? TEMPLATE_VARIABLES[template];
}

function unknownHint(text: string, template: EmailTemplate, saved: Branding) {
  const unknown = unknownVariables(text, allowedVariables(template, saved));
  if (unknown.length === 0) return undefined;
  return (
    <span className="branding-warning" data-testid="template-unknown-variable">
      Not a variable of this mail, sent as written: {unknown.map((name) => `{{${name}}}`).join(", ")}
    </span>
  );
}

function TemplateVariables({
  template,
  variables,
}: {
  template: EmailTemplate;
  variables?: string[] | undefined;
}) {
  const list = variables ?? TEMPLATE_VARIABLES[template];
  return (
    <p className="field-hint template-variables" data-testid={`template-variables-${template}`}>
      Variables:{" "}
      {list.map((name, index) => (
        <span key={name}>
          {index > 0 ? " " : null}
          <code>{`{{${name}}}`}</code>
        </span>
      ))}
    </p>
  );
}

function MessageCounter({ length }: { length: number }) {
  const over = length > LOGIN_MESSAGE_MAX;
  return (
    <span className={over ? "counter counter-over" : "counter"} data-testid="login-message-count">
      Plain text, shown above the login form. {length} / {LOGIN_MESSAGE_MAX} characters
      {over ? ` — ${length - LOGIN_MESSAGE_MAX} too many` : ""}
    </span>
  );
}

/** A native colour picker beside a hex field, with the contrast it makes against both themes. */
function ColourField({
  value,
  onChange,
  error,
  readOnly,
}: {
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  readOnly: boolean;
}) {
  const id = useId();
  const check = value ? checkBrandColour(value) : null;
  const hint = `${id}-contrast`;
  return (
    <FieldFrame id={id} label="Primary colour (hex)" error={error}>
      <div className="colour-input">
        <input
          type="color"
          aria-label="Pick the primary colour"
          value={normalizeHex(value) ?? DEFAULT_COLOUR}
          onChange={(event) => onChange(event.target.value)}
          disabled={readOnly}
          data-testid="branding-colour-picker"
        />
        <input
          id={id}
          type="text"
          name="primary_color"
          inputMode="text"
          spellCheck={false}
          autoCapitalize="none"
          autoComplete="off"
          maxLength={7}
          placeholder="Gatehouse's default"
          value={value}
          onChange={(event) => onChange(event.target.value.trim())}
          readOnly={readOnly}
          aria-invalid={error ? true : undefined}
          aria-describedby={describedBy(id, true, error, hint)}
          data-testid="branding-colour"
        />
        {value && !readOnly ? (
          <button
            type="button"
            className="button button-ghost button-small"
            onClick={() => onChange("")}
            data-testid="branding-colour-reset"
          >
            Use the default
          </button>
        ) : null}
      </div>
      <div id={`${id}-hint`} className="field-hint">
        Primary buttons and the login page use it. It needs at least {MIN_BACKGROUND_CONTRAST}:1 contrast
        against the light and the dark theme; button text is black or white, whichever reads better.
      </div>
      <div id={hint} className="contrast-report" aria-live="polite" data-testid="contrast-report">
        {!value ? (
          <span className="muted">No colour set: Gatehouse's own blue is used.</span>
        ) : !check ? (
          <span className="muted">Type six hexadecimal digits, like #1a7f5a.</span>
        ) : (
          <>
            <span
              className={`badge ${check.acceptable ? "badge-success" : "badge-danger"}`}
              data-testid="contrast-verdict"
              data-acceptable={check.acceptable ? "true" : "false"}
            >
              {check.acceptable ? "Enough contrast" : "Too little contrast"}
            </span>{" "}
            <span data-testid="contrast-light">Light theme {formatRatio(check.light)}</span>
            {" · "}
            <span data-testid="contrast-dark">Dark theme {formatRatio(check.dark)}</span>
            {" · "}
            <span data-testid="contrast-text">
              {check.text === "#ffffff" ? "White" : "Black"} text {formatRatio(check.textContrast)}
            </span>
            {check.problem ? <span className="contrast-problem">{check.problem}</span> : null}
          </>
        )}
      </div>
    </FieldFrame>
  );
}

/** The account's login page as it would look with the unsaved values, scaled down. */
function LoginPreview({ form, logoUrl }: { form: BrandingForm; logoUrl: string | null }) {
  const { user, account_id } = useSessionInfo();
  const accountName =
    user.memberships.find((membership) => membership.account_id === account_id)?.account_name ??
    "Your account";
  const check = form.primary_color ? checkBrandColour(form.primary_color) : null;
  const links = [
    form.support_url.trim() || form.support_email.trim() ? "Support" : null,
    form.privacy_url.trim() ? "Privacy" : null,
    form.terms_url.trim() ? "Terms" : null,
  ].filter((link): link is string => link !== null);
  return (
    <section className="card" aria-labelledby="login-preview-heading">
      <h2 id="login-preview-heading">Login page preview</h2>
      <div className="login-preview" aria-hidden="true" data-testid="login-preview">
        <div className="login-preview-card">
          {logoUrl ? <img src={logoUrl} alt="" className="login-preview-logo" /> : null}
          <div className="login-preview-name">{accountName}</div>
          {form.login_message.trim() ? (
            <p className="login-preview-message" data-testid="login-preview-message">
              {form.login_message}
            </p>
          ) : null}
          <div className="login-preview-field" />
          <div className="login-preview-field" />
          <div
            className="login-preview-button"
            data-testid="login-preview-button"
            style={
              check ? { background: check.color, color: check.text, borderColor: check.color } : undefined
            }
          >
            Log in
          </div>
          {links.length > 0 ? <div className="login-preview-links">{links.join(" · ")}</div> : null}
        </div>
      </div>
      <p className="field-hint">With the values above, before saving. The logo is set under Organization.</p>
    </section>
  );
}

/** The invitation or welcome mail rendered by the server with the unsaved values, and a test send. */
function MailPreviewCard({ branding }: { branding: ReturnType<typeof toApi> }) {
  const api = useApi();
  const base = useAccountPath();
  const toast = useToast();
  const { user } = useSessionInfo();
  const [template, setTemplate] = useState<EmailTemplate>("invitation");
  const request = useDebouncedValue(JSON.stringify({ template, branding }), 500);
  const [preview, setPreview] = useState<{ request: string; mail: MailPreview } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [sending, setSending] = useState(false);

  useEffect(() => {
    let live = true;
    setError(null);
    api.post<MailPreview>(`${base}/branding/preview`, JSON.parse(request)).then(
      (mail) => live && setPreview({ request, mail }),
      (caught: unknown) => live && setError(explainError(caught)),
    );
    return () => {
      live = false;
    };
  }, [api, base, request]);

  async function sendTest() {
    setSending(true);
    setError(null);
    try {
      await api.post(`${base}/branding/test-email`, { template });
      toast.show({ text: `Sent a test ${TEMPLATE_NAMES[template].toLowerCase()} mail to ${user.email}.` });
    } catch (caught) {
      setError(explainError(caught));
    } finally {
      setSending(false);
    }
  }

  return (
    <section className="card" aria-labelledby="mail-preview-heading" data-testid="mail-preview">
      <h2 id="mail-preview-heading">Mail preview</h2>
      <SelectField
        label="Mail"
        name="preview_template"
        value={template}
        onValueChange={(value) => setTemplate(value as EmailTemplate)}
        options={EMAIL_TEMPLATES.map((name) => ({ value: name, label: `${TEMPLATE_NAMES[name]} mail` }))}
      />
      {error ? <FormAlert testId="mail-preview-error">{error}</FormAlert> : null}
      {preview ? (
        <>
          <p className="mail-preview-subject">
            <span className="muted">Subject: </span>
            <span data-testid="mail-preview-subject">{preview.mail.subject}</span>
          </p>
          {/* No scripts, no forms, no navigation, a unique origin: the mail is only looked at. */}
          <iframe
            className="mail-preview-frame"
            title={`Preview of the ${TEMPLATE_NAMES[template].toLowerCase()} mail`}
            sandbox=""
            srcDoc={preview.mail.html}
            data-testid="mail-preview-frame"
            data-stale={preview.request === request ? undefined : "true"}
          />
        </>
      ) : error ? null : (
        <p className="muted" role="status">
          Rendering the preview…
        </p>
      )}
      <div className="actions">
        <button
          type="button"
          className="button button-secondary"
          onClick={() => void sendTest()}
          disabled={sending}
          data-testid="branding-test-email"
        >
          {sending ? "Sending…" : "Send me a test"}
        </button>
        <span className="field-hint">The test uses the saved branding, and goes to {user.email}.</span>
      </div>
    </section>
  );
}
