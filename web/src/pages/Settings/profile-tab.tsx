import { type FormEvent, useEffect, useMemo, useState } from "react";
import { describeError } from "../../api";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { ImagePicker } from "../../components/image-picker";
import { PhoneField } from "../../components/phone-field";
import type { CountryCode, PhoneValue } from "../../phone";
import { Link } from "../../router";
import type { Me } from "../../types";
import { useApi } from "../../use-api";
import { useDefaultCountry } from "../../use-default-country";
import { useFormErrors } from "../../use-form-errors";
import { useFormatDate } from "../../use-format-date";
import { type PhoneKit, usePhoneKit } from "../../use-phone-kit";
import { useSession, useSessionInfo } from "../../use-session";
import { useToast } from "../../use-toast";
import { ChangeEmailDialog } from "./change-email-dialog";

const TEXT_FIELDS = ["username", "first_name", "last_name", "timezone"] as const;
const FIELDS = [...TEXT_FIELDS, "mobile"] as const;
const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
type ProfileForm = Record<(typeof TEXT_FIELDS)[number], string> & { mobile: PhoneValue };

/** The saved profile as the form shows it; the mobile in its national form once the phone kit is in. */
function formFromUser(user: Me, country: CountryCode, kit: PhoneKit | null): ProfileForm {
  return {
    username: user.username ?? "",
    first_name: user.first_name ?? "",
    last_name: user.last_name ?? "",
    timezone: user.timezone ?? "",
    mobile: kit ? kit.phoneValueOf(user.mobile, country) : { country, text: user.mobile ?? "" },
  };
}

function timeZoneOptions(current: string): Array<{ value: string; label: string }> {
  const zones = Intl.supportedValuesOf("timeZone");
  // The user's zone may be an alias (e.g. "UTC") the browser leaves out of its list.
  if (current && !zones.includes(current)) zones.unshift(current);
  const options = zones.map((zone) => ({ value: zone, label: zone.replaceAll("_", " ") }));
  return current ? options : [{ value: "", label: "Not set" }, ...options];
}

export function ProfileTab() {
  const api = useApi();
  const { updateUser } = useSession();
  const { user, account_id } = useSessionInfo();
  const formatDate = useFormatDate();
  const kit = usePhoneKit();
  const country = useDefaultCountry(kit);
  const [form, setForm] = useState<ProfileForm>(() => formFromUser(user, country, kit));
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");
  const [verification, setVerification] = useState<string | null>(null);
  const [changingEmail, setChangingEmail] = useState(false);
  const zones = useMemo(() => timeZoneOptions(user.timezone ?? ""), [user.timezone]);
  const membership = user.memberships.find((candidate) => candidate.account_id === account_id);

  // The session's copy may be stale (verified in another tab, edited elsewhere).
  useEffect(() => {
    api.get<Me>("/me").then(updateUser, () => {});
  }, [api, updateUser]);

  const saved = formFromUser(user, country, kit);
  // When the server copy changes underneath an untouched form, show the new values.
  const savedKey = JSON.stringify(saved);
  const [baselineKey, setBaselineKey] = useState(savedKey);
  if (savedKey !== baselineKey) {
    setBaselineKey(savedKey);
    if (JSON.stringify(form) === baselineKey) setForm(saved);
  }
  const changed = TEXT_FIELDS.filter((field) => form[field] !== saved[field]);
  const mobileChanged =
    form.mobile.text !== saved.mobile.text || form.mobile.country !== saved.mobile.country;

  function set(field: (typeof TEXT_FIELDS)[number]) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      edited(field);
      setStatus("idle");
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (changed.length === 0 && !mobileChanged) {
      setStatus("saved");
      return;
    }
    // What the browser can tell at once, it tells at once: every such field in one go.
    const local: Record<string, string> = {};
    const username = form.username.trim();
    if (username !== "" && !USERNAME_PATTERN.test(username))
      local.username = "Use 3–32 characters: letters, digits, dot, dash or underscore.";
    // The phone field is disabled until the kit is in, so a changed mobile is always read with it.
    const mobile = kit?.readPhone(form.mobile, kit.countryNamer(navigator.language)) ?? { status: "empty" };
    if (mobileChanged && mobile.status === "invalid") local.mobile = mobile.message;
    if (Object.keys(local).length > 0) {
      refuse(local);
      setStatus("idle");
      return;
    }
    const patch: Record<string, string | null> = {};
    for (const field of changed) {
      const value = form[field].trim();
      // An empty username means "no username"; the API clears it with null.
      patch[field] = field === "username" && value === "" ? null : value;
    }
    if (mobileChanged) patch.mobile = mobile.status === "ok" ? mobile.e164 : null;
    setStatus("saving");
    clear();
    try {
      const updated = await api.patch<Me>("/me", patch);
      updateUser(updated);
      setForm(formFromUser(updated, country, kit));
      setStatus("saved");
    } catch (error) {
      fail(error);
      setStatus("idle");
    }
  }

  function cancel() {
    setForm(saved);
    clear();
    setStatus("idle");
  }

  async function resendVerification() {
    try {
      await api.post("/auth/verify-email/resend");
      setVerification("We sent a new verification link to your inbox.");
    } catch (error) {
      setVerification(describeError(error));
    }
  }

  return (
    <div className="stack">
      <section className="card" aria-labelledby="account-heading">
        <h2 id="account-heading">Account</h2>
        <dl className="details">
          <div>
            <dt>User ID</dt>
            <dd>
              <code>{user.id}</code>
            </dd>
          </div>
          <div>
            <dt>Email</dt>
            <dd>
              <span className="break">{user.email}</span>{" "}
              {user.email_verified ? (
                <span className="badge badge-success" data-testid="email-verified" data-verified="true">
                  Verified
                </span>
              ) : (
                <span className="badge badge-warning" data-testid="email-verified" data-verified="false">
                  Not verified
                </span>
              )}
              {user.email_verified ? null : (
                <button type="button" className="link-button" onClick={resendVerification}>
                  Resend verification email
                </button>
              )}
              {verification ? (
                <span className="field-hint" role="status">
                  {verification}
                </span>
              ) : null}
              <button
                type="button"
                className="link-button"
                onClick={() => setChangingEmail(true)}
                data-testid="change-email"
              >
                Change email
              </button>
              <span className="field-hint">
                You log in with this address; changing it needs a confirmation.
              </span>
            </dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              {membership ? (
                <>
                  <strong>{membership.role.name}</strong>
                  <span className="muted"> in {membership.account_name}</span>
                  {membership.role.description ? (
                    <span className="field-hint">{membership.role.description}</span>
                  ) : null}
                </>
              ) : (
                <span className="muted">No role in the active account</span>
              )}
            </dd>
          </div>
          <div>
            <dt>Two-factor authentication</dt>
            <dd>
              {user.mfa_enabled ? (
                <span className="badge badge-success" data-testid="profile-mfa" data-enabled="true">
                  Enabled
                </span>
              ) : (
                <span className="badge" data-testid="profile-mfa" data-enabled="false">
                  Not enabled
                </span>
              )}
              <Link to="/settings/security" className="inline-link">
                {user.mfa_enabled ? "Manage in Security settings" : "Set up in Security settings"}
              </Link>
            </dd>
          </div>
          <div>
            <dt>Created</dt>
            <dd>{formatDate(user.created_at)}</dd>
          </div>
          <div>
            <dt>Last updated</dt>
            <dd>{formatDate(user.updated_at)}</dd>
          </div>
        </dl>
      </section>

      <AvatarCard />

      {changingEmail ? (
        <ChangeEmailDialog currentEmail={user.email} onClose={() => setChangingEmail(false)} />
      ) : null}

      <form ref={formRef} className="card" onSubmit={submit} noValidate aria-labelledby="profile-heading">
        <h2 id="profile-heading">Your details</h2>
        {errors.form ? (
          <FormAlert testId="form-error" code={errors.code}>
            {errors.form}
          </FormAlert>
        ) : null}
        <TextField
          label="Username"
          name="username"
          autoComplete="username"
          hint="3–32 characters: letters, digits, dot, dash or underscore. Leave empty for none."
          value={form.username}
          onValueChange={set("username")}
          error={errors.fields.username}
          spellCheck={false}
          autoCapitalize="none"
        />
        <div className="grid-2">
          <TextField
            label="First name"
            name="first_name"
            autoComplete="given-name"
            value={form.first_name}
            onValueChange={set("first_name")}
            error={errors.fields.first_name}
          />
          <TextField
            label="Last name"
            name="last_name"
            autoComplete="family-name"
            value={form.last_name}
            onValueChange={set("last_name")}
            error={errors.fields.last_name}
          />
        </div>
        <PhoneField
          label="Mobile number"
          name="mobile"
          hint="Optional. Saved with its country code. Two-factor text messages use the number you confirm in Security."
          value={form.mobile}
          onValueChange={(mobile) => {
            setForm((current) => ({ ...current, mobile }));
            edited("mobile");
            setStatus("idle");
          }}
          error={errors.fields.mobile}
        />
        <SelectField
          label="Timezone"
          name="timezone"
          value={form.timezone}
          onValueChange={set("timezone")}
          options={zones}
          hint="Dates in Gatehouse are shown in this timezone."
          error={errors.fields.timezone}
        />
        <div className="actions">
          <button type="submit" className="button" disabled={status === "saving"}>
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={cancel}
            disabled={status === "saving"}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="profile-saved">
              Profile saved.
            </span>
          ) : null}
        </div>
      </form>
    </div>
  );
}

/** The profile picture the header and member lists show (initials without one). */
function AvatarCard() {
  const api = useApi();
  const toast = useToast();
  const { updateUser } = useSession();
  const { user } = useSessionInfo();
  return (
    <section className="card" aria-labelledby="avatar-heading" data-testid="avatar-card">
      <h2 id="avatar-heading">Profile picture</h2>
      <p className="muted">
        Shown next to your name in the header and in member lists. Without one, your initials are.
      </p>
      <ImagePicker
        what="avatar"
        noun="profile picture"
        currentUrl={user.avatar_url}
        editable
        round
        modes={["cover"]}
        removeConsequence="Your initials are shown instead. You can upload a picture again at any time."
        upload={async (image) => {
          updateUser(await api.upload<Me>("/me/avatar", image, { filename: "avatar.png" }));
          toast.show({ text: "Updated your profile picture." });
        }}
        remove={async () => {
          await api.delete("/me/avatar");
          updateUser({ ...user, avatar_url: null });
          toast.show({ text: "Removed your profile picture." });
        }}
      />
    </section>
  );
}
