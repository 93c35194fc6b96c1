import { type FormEvent, useMemo, useState } from "react";
import { CheckboxList } from "../../components/checkbox-list";
import { SelectField, TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { ImagePicker } from "../../components/image-picker";
import { PhoneField } from "../../components/phone-field";
import { LoadingCard } from "../../components/skeleton";
import { CERTIFICATIONS, countrySelectOptions, INDUSTRIES } from "../../organization";
import type { CountryCode, PhoneValue } from "../../phone";
import type { Account, RoleDetail } from "../../types";
import { useApi } from "../../use-api";
import { useDefaultCountry } from "../../use-default-country";
import { useFormErrors } from "../../use-form-errors";
import { usePermissions } from "../../use-permissions";
import { type PhoneKit, usePhoneKit } from "../../use-phone-kit";
import { useResource } from "../../use-resource";
import { useSession } from "../../use-session";
import { useToast } from "../../use-toast";
import { useAccountPath, useRoles } from "./account-data";
import { announceBrandingChange } from "./branding-data";

export function AccountTab() {
  const { can } = usePermissions();
  const account = useResource<Account>(useAccountPath());
  const [current, setCurrent] = useState<Account | null>(null);
  const shown = current ?? account.data;
  const editable = can("account:update");
  return (
    <div className="stack">
      {shown ? (
        <>
          <LogoCard account={shown} editable={editable} onChange={setCurrent} />
          <OrganizationForm initial={shown} editable={editable} onSaved={setCurrent} />
        </>
      ) : account.error ? (
        <FormAlert>
          <p>The organization profile could not be loaded: {account.error}</p>
          <button type="button" className="button button-secondary button-small" onClick={account.reload}>
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingCard label="Loading the organization profile…" lines={8} />
      )}
    </div>
  );
}

function LogoCard({
  account,
  editable,
  onChange,
}: {
  account: Account;
  editable: boolean;
  onChange: (account: Account) => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  const toast = useToast();
  return (
    <section className="card" aria-labelledby="logo-heading" data-testid="logo-card">
      <h2 id="logo-heading">Logo</h2>
      <p className="muted">
        Shown on the account's login page and in its mails. The image is resized to a square; transparent
        backgrounds stay transparent.
      </p>
      <ImagePicker
        what="logo"
        noun="logo"
        currentUrl={account.logo_url}
        editable={editable}
        modes={["contain", "cover"]}
        removeConsequence="The login page and mails show the account's name without a logo. You can upload a logo again at any time."
        upload={async (image) => {
          const updated = await api.upload<Account>(`${base}/logo`, image, { filename: "logo.png" });
          onChange(updated);
          announceBrandingChange();
          toast.show({ text: "Uploaded the logo." });
        }}
        remove={async () => {
          await api.delete(`${base}/logo`);
          onChange({ ...account, logo_url: null });
          announceBrandingChange();
          toast.show({ text: "Removed the logo." });
        }}
      />
    </section>
  );
}

const ADDRESS_PARTS = ["line1", "line2", "city", "region", "postal_code", "country"] as const;
type AddressPart = (typeof ADDRESS_PARTS)[number];

const TEXT_FIELDS = [
  "name",
  "legal_name",
  "website",
  "industry",
  "industry_other",
  "tax_id",
  "billing_email",
  "contact_email",
  "default_role_id",
] as const;
type TextFieldName = (typeof TEXT_FIELDS)[number];

/** The form's fields, where the server's `errors[].path` land ("/address/city" → "address.city"). */
const FIELDS = [
  ...TEXT_FIELDS,
  "phone",
  "certifications",
  ...ADDRESS_PARTS.map((part) => `address.${part}`),
  "address",
] as const;

type OrganizationFormState = Record<TextFieldName, string> & {
  address: Record<AddressPart, string>;
  phone: PhoneValue;
  certifications: string[];
};

const KNOWN_INDUSTRIES = new Set<string>(INDUSTRIES.map((industry) => industry.value));

function formFromAccount(
  account: Account,
  country: CountryCode,
  kit: PhoneKit | null,
): OrganizationFormState {
  // An industry from before the fixed list is "other" with its text (the server migrates it the same way).
  const industry = account.industry ?? "";
  const listed = industry === "" || KNOWN_INDUSTRIES.has(industry);
  return {
    name: account.name,
    legal_name: account.legal_name ?? "",
    website: account.website ?? "",
    industry: listed ? industry : "other",
    industry_other: listed ? (account.industry_other ?? "") : industry,
    tax_id: account.tax_id ?? "",
    billing_email: account.billing_email ?? "",
    contact_email: account.contact_email ?? "",
    default_role_id: account.default_role_id ?? "",
    address: {
      line1: account.address?.line1 ?? "",
      line2: account.address?.line2 ?? "",
      city: account.address?.city ?? "",
      region: account.address?.region ?? "",
      postal_code: account.address?.postal_code ?? "",
      country: account.address?.country ?? "",
    },
    phone: kit ? kit.phoneValueOf(account.phone, country) : { country, text: account.phone ?? "" },
    certifications: [...(account.certifications ?? [])],
  };
}

/** Root can't be the default: only a Root user may grant it, and an invitation must not do so silently. */
function defaultRoleOptions(roles: RoleDetail[] | undefined, current: string) {
  const options = [{ value: "", label: "Monitor (default)" }];
  for (const role of roles ?? []) {
    if (role.key !== "root") options.push({ value: role.id, label: role.name });
  }
  // Without roles:read the list is unknown; still show that a role is set.
  if (current && !options.some((option) => option.value === current)) {
    options.push({ value: current, label: roles ? "A role that no longer exists" : "A role you can't see" });
  }
  return options;
}

const emptyToNull = (value: string) => (value.trim() === "" ? null : value.trim());

function OrganizationForm({
  initial,
  editable,
  onSaved,
}: {
  initial: Account;
  editable: boolean;
  onSaved: (account: Account) => void;
}) {
  const api = useApi();
  const base = useAccountPath();
  const { reload: reloadSession } = useSession();
  const roles = useRoles();
  const kit = usePhoneKit();
  const country = useDefaultCountry(kit);
  const countries = useMemo(
    () => [{ value: "", label: "Not set" }, ...countrySelectOptions(navigator.language)],
    [],
  );
  const [form, setForm] = useState<OrganizationFormState>(() => formFromAccount(initial, country, kit));
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(FIELDS);
  const [status, setStatus] = useState<"idle" | "saving" | "saved">("idle");

  const saved = formFromAccount(initial, country, kit);
  // The phone kit arriving (or a save elsewhere) changes the saved copy: an untouched form follows it.
  const savedKey = JSON.stringify(saved);
  const [baselineKey, setBaselineKey] = useState(savedKey);
  if (savedKey !== baselineKey) {
    setBaselineKey(savedKey);
    if (JSON.stringify(form) === baselineKey) setForm(saved);
  }

  const changedText = TEXT_FIELDS.filter((field) => form[field].trim() !== saved[field].trim());
  const addressChanged = ADDRESS_PARTS.some(
    (part) => form.address[part].trim() !== saved.address[part].trim(),
  );
  const phoneChanged = form.phone.text !== saved.phone.text || form.phone.country !== saved.phone.country;
  const certificationsChanged =
    [...form.certifications].sort().join() !== [...saved.certifications].sort().join();
  const dirty = changedText.length > 0 || addressChanged || phoneChanged || certificationsChanged;

  function set(field: TextFieldName) {
    return (value: string) => {
      setForm((current) => ({ ...current, [field]: value }));
      edited(field);
      setStatus("idle");
    };
  }

  function setAddress(part: AddressPart) {
    return (value: string) => {
      setForm((current) => ({ ...current, address: { ...current.address, [part]: value } }));
      edited(`address.${part}`);
      edited("address");
      setStatus("idle");
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty) {
      setStatus("saved");
      return;
    }
    // What the browser can tell at once: a name, the phone number for its country, "other" explained.
    const local: Record<string, string> = {};
    if (!form.name.trim()) local.name = "Enter the organization's display name.";
    if (form.industry === "other" && !form.industry_other.trim())
      local.industry_other = "Say which industry, or pick one from the list.";
    const phone = kit?.readPhone(form.phone, kit.countryNamer(navigator.language)) ?? { status: "empty" };
    if (phoneChanged && phone.status === "invalid") local.phone = phone.message;
    if (Object.keys(local).length > 0) {
      refuse(local);
      setStatus("idle");
      return;
    }
    const patch: Record<string, unknown> = {};
    for (const field of changedText) {
      if (field === "name") patch.name = form.name.trim();
      else patch[field] = emptyToNull(form[field]);
    }
    if (changedText.includes("industry") && form.industry !== "other") patch.industry_other = null;
    if (form.industry === "other" && changedText.includes("industry_other")) patch.industry = "other";
    if (addressChanged) {
      const address = Object.fromEntries(
        ADDRESS_PARTS.map((part) => [part, emptyToNull(form.address[part])]),
      );
      patch.address = Object.values(address).every((value) => value === null) ? null : address;
    }
    if (phoneChanged) patch.phone = phone.status === "ok" ? phone.e164 : null;
    if (certificationsChanged) patch.certifications = form.certifications;
    setStatus("saving");
    clear();
    try {
      const updated = await api.patch<Account>(base, patch);
      onSaved(updated);
      setForm(formFromAccount(updated, country, kit));
      setStatus("saved");
      // The header and the account switcher show the name from the session; the login page shows it too.
      if (patch.name !== undefined) {
        void reloadSession();
        announceBrandingChange();
      }
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

  const readOnly = !editable;
  return (
    <form
      ref={formRef}
      className="card"
      onSubmit={submit}
      noValidate
      aria-labelledby="organization-heading"
      data-testid="organization-form"
    >
      <h2 id="organization-heading">Organization profile</h2>
      {editable ? null : (
        <p className="muted" data-testid="account-read-only">
          Your role can see the organization profile but not change it.
        </p>
      )}
      {errors.form ? (
        <FormAlert testId="organization-error" code={errors.code}>
          {errors.form}
        </FormAlert>
      ) : null}
      <div className="grid-2">
        <TextField
          label="Display name"
          name="name"
          autoComplete="organization"
          required
          maxLength={200}
          value={form.name}
          onValueChange={set("name")}
          error={errors.fields.name}
          readOnly={readOnly}
          hint="Shown to members, on the login page and in mails."
        />
        <TextField
          label="Slug"
          name="slug"
          value={initial.slug}
          onValueChange={() => {}}
          readOnly
          hint="Set when the account was created; it can't be changed."
          spellCheck={false}
        />
      </div>
      <div className="grid-2">
        <TextField
          label="Legal name"
          name="legal_name"
          maxLength={200}
          value={form.legal_name}
          onValueChange={set("legal_name")}
          error={errors.fields.legal_name}
          readOnly={readOnly}
          hint="As registered; invoices use it."
        />
        <TextField
          label="Website"
          name="website"
          type="url"
          inputMode="url"
          autoComplete="url"
          maxLength={2048}
          placeholder={editable ? "https://example.com" : undefined}
          value={form.website}
          onValueChange={set("website")}
          error={errors.fields.website}
          readOnly={readOnly}
          spellCheck={false}
          autoCapitalize="none"
        />
      </div>
      <div className="grid-2">
        <SelectField
          label="Industry"
          name="industry"
          value={form.industry}
          onValueChange={set("industry")}
          options={[{ value: "", label: "Not set" }, ...INDUSTRIES]}
          error={errors.fields.industry}
          disabled={readOnly}
        />
        {form.industry === "other" ? (
          <TextField
            label="Which industry"
            name="industry_other"
            maxLength={100}
            value={form.industry_other}
            onValueChange={set("industry_other")}
            error={errors.fields.industry_other}
            readOnly={readOnly}
          />
        ) : null}
      </div>
      {readOnly ? (
        <TextField
          label="Phone"
          name="phone"
          type="tel"
          value={initial.phone ?? ""}
          onValueChange={() => {}}
          readOnly
        />
      ) : (
        <PhoneField
          label="Phone"
          name="phone"
          hint="The organization's main number, saved with its country code."
          value={form.phone}
          onValueChange={(phone) => {
            setForm((current) => ({ ...current, phone }));
            edited("phone");
            setStatus("idle");
          }}
          error={errors.fields.phone}
        />
      )}
      <fieldset className="field fieldset-plain" aria-describedby="address-hint">
        <legend>Postal address</legend>
        <p id="address-hint" className="field-hint">
          Printed on invoices with the legal name and tax ID.
        </p>
        {errors.fields.address ? <p className="field-error">{errors.fields.address}</p> : null}
        <TextField
          label="Address line 1"
          name="address.line1"
          autoComplete="address-line1"
          maxLength={200}
          value={form.address.line1}
          onValueChange={setAddress("line1")}
          error={errors.fields["address.line1"]}
          readOnly={readOnly}
        />
        <TextField
          label="Address line 2"
          name="address.line2"
          autoComplete="address-line2"
          maxLength={200}
          value={form.address.line2}
          onValueChange={setAddress("line2")}
          error={errors.fields["address.line2"]}
          readOnly={readOnly}
        />
        <div className="grid-2">
          <TextField
            label="City"
            name="address.city"
            autoComplete="address-level2"
            maxLength={100}
            value={form.address.city}
            onValueChange={setAddress("city")}
            error={errors.fields["address.city"]}
            readOnly={readOnly}
          />
          <TextField
            label="State, province or region"
            name="address.region"
            autoComplete="address-level1"
            maxLength={100}
            value={form.address.region}
            onValueChange={setAddress("region")}
            error={errors.fields["address.region"]}
            readOnly={readOnly}
          />
        </div>
        <div className="grid-2">
          <TextField
            label="Postal code"
            name="address.postal_code"
            autoComplete="postal-code"
            maxLength={20}
            value={form.address.postal_code}
            onValueChange={setAddress("postal_code")}
            error={errors.fields["address.postal_code"]}
            readOnly={readOnly}
          />
          <SelectField
            label="Country"
            name="address.country"
            autoComplete="country"
            value={form.address.country}
            onValueChange={setAddress("country")}
            options={countries}
            error={errors.fields["address.country"]}
            disabled={readOnly}
          />
        </div>
      </fieldset>
      <div className="grid-2">
        <TextField
          label="Tax ID"
          name="tax_id"
          maxLength={64}
          value={form.tax_id}
          onValueChange={set("tax_id")}
          error={errors.fields.tax_id}
          readOnly={readOnly}
          hint="VAT number, EIN or similar."
          spellCheck={false}
        />
        <TextField
          label="Billing email"
          name="billing_email"
          type="email"
          autoComplete="email"
          maxLength={254}
          value={form.billing_email}
          onValueChange={set("billing_email")}
          error={errors.fields.billing_email}
          readOnly={readOnly}
          hint="Invoices and payment notices go here."
        />
      </div>
      <TextField
        label="Contact email"
        name="contact_email"
        type="email"
        autoComplete="email"
        maxLength={254}
        value={form.contact_email}
        onValueChange={set("contact_email")}
        error={errors.fields.contact_email}
        readOnly={readOnly}
        hint="A shared address for questions about this account."
      />
      <CheckboxList
        legend="Compliance certifications"
        name="certifications"
        options={CERTIFICATIONS.map((certification) => ({
          ...certification,
          disabled: readOnly,
        }))}
        selected={form.certifications}
        onChange={(certifications) => {
          setForm((current) => ({ ...current, certifications }));
          edited("certifications");
          setStatus("idle");
        }}
        error={errors.fields.certifications}
      />
      <SelectField
        label="Default role for invitations"
        name="default_role_id"
        value={form.default_role_id}
        onValueChange={set("default_role_id")}
        options={defaultRoleOptions(roles.data?.data, form.default_role_id)}
        error={errors.fields.default_role_id}
        disabled={readOnly}
        hint="People you invite get this role unless you choose another."
      />
      {editable ? (
        <div className="actions">
          <button
            type="submit"
            className="button"
            disabled={status === "saving"}
            data-testid="organization-save"
          >
            {status === "saving" ? "Saving…" : "Save"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={cancel}
            disabled={status === "saving" || !dirty}
          >
            Cancel
          </button>
          {status === "saved" ? (
            <span className="saved-note" role="status" data-testid="account-saved">
              Organization profile saved.
            </span>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}
