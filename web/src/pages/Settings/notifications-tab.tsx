import { type FormEvent, useEffect, useId, useState } from "react";
import { ApiError } from "../../api";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingCard } from "../../components/skeleton";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import {
  type Me,
  NOTIFICATION_CHANNELS,
  type NotificationCategory,
  type NotificationChannel,
  type NotificationPreferences,
} from "../../types";
import { useApi } from "../../use-api";
import { useFormErrors } from "../../use-form-errors";
import { useResource } from "../../use-resource";
import { useSession } from "../../use-session";
import { useToast } from "../../use-toast";
import { CHANNEL_LABELS, categoryHint, categoryLabel, lockReason } from "../../webhooks";

const PREFERENCES_PATH = "/me/notification-preferences";

/** Settings → Notifications: which kinds of notice reach you where, and the mobile number for SMS. */
export function NotificationsTab() {
  const me = useResource<Me>("/me");
  const preferences = useResource<NotificationPreferences>(PREFERENCES_PATH);
  const mobileVerified = me.data?.mobile_verified === true;

  return (
    <div className="stack">
      {preferences.data && me.data ? (
        <PreferencesCard
          // A verified mobile unlocks SMS: the grid starts again from what the server says now.
          key={mobileVerified ? "verified" : "unverified"}
          saved={preferences.data}
          mobileVerified={mobileVerified}
          onSaved={preferences.reload}
        />
      ) : preferences.error || me.error ? (
        <FormAlert testId="notification-preferences-error">
          <p>Your notification settings could not be loaded: {preferences.error ?? me.error}</p>
          <button
            type="button"
            className="button button-secondary button-small"
            onClick={() => {
              preferences.reload();
              me.reload();
            }}
          >
            Try again
          </button>
        </FormAlert>
      ) : (
        <LoadingCard label="Loading your notification settings…" table={{ columns: 4 }} />
      )}
      {me.data ? (
        <MobileCard
          me={me.data}
          onVerified={() => {
            me.reload();
            preferences.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function PreferencesCard({
  saved,
  mobileVerified,
  onSaved,
}: {
  saved: NotificationPreferences;
  mobileVerified: boolean;
  onSaved: () => void;
}) {
  const api = useApi();
  const toast = useToast();
  const [categories, setCategories] = useState<NotificationCategory[]>(saved.categories);
  const [busy, setBusy] = useState(false);
  const { errors, formRef, fail, clear } = useFormErrors(["categories"]);
  const changed = JSON.stringify(categories) !== JSON.stringify(saved.categories);

  // A reload after saving brings the server's answer in.
  useEffect(() => setCategories(saved.categories), [saved]);

  function set(key: string, channel: NotificationChannel, on: boolean) {
    setCategories((current) =>
      current.map((category) =>
        category.key === key ? { ...category, channels: { ...category.channels, [channel]: on } } : category,
      ),
    );
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    clear();
    try {
      await api.put(PREFERENCES_PATH, {
        categories: categories.map((category) => ({ key: category.key, channels: category.channels })),
      });
      toast.show({ text: "Saved your notification settings." });
      onSaved();
    } catch (error) {
      fail(error);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="notification-preferences-heading">
      <h2 id="notification-preferences-heading">Where notifications reach you</h2>
      <p className="muted">
        Choose, for each kind of notice, whether it comes by email, in the app (the bell at the top), or by
        text message.
      </p>
      <form ref={formRef} onSubmit={submit} noValidate>
        {errors.form ? (
          <FormAlert code={errors.code} testId="notification-preferences-save-error">
            {errors.form}
          </FormAlert>
        ) : errors.fields.categories ? (
          <FormAlert testId="notification-preferences-save-error">{errors.fields.categories}</FormAlert>
        ) : null}
        <div className="notification-grid-frame">
          <table className="table notification-grid" data-testid="notification-grid">
            <caption className="visually-hidden">Notification channels by kind of notice</caption>
            <thead>
              <tr>
                <th scope="col">Notice</th>
                {NOTIFICATION_CHANNELS.map((channel) => (
                  <th key={channel} scope="col" className="cell-channel">
                    {CHANNEL_LABELS[channel]}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {categories.map((category) => (
                <tr key={category.key} data-testid="notification-category" data-category={category.key}>
                  <th scope="row">
                    <span className="member-name">{categoryLabel(category.key)}</span>
                    {categoryHint(category.key) ? (
                      <span className="member-email">{categoryHint(category.key)}</span>
                    ) : null}
                  </th>
                  {NOTIFICATION_CHANNELS.map((channel) => (
                    <td key={channel} className="cell-channel">
                      <ChannelCheckbox
                        category={category}
                        channel={channel}
                        reason={lockReason(category, channel, mobileVerified)}
                        onChange={(on) => set(category.key, channel, on)}
                      />
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="actions">
          <button
            type="submit"
            className="button"
            disabled={busy || !changed}
            data-testid="notification-preferences-save"
          >
            {busy ? "Saving…" : "Save"}
          </button>
        </div>
      </form>
    </section>
  );
}

/** One cell: a checkbox named "Members: email"; a locked one is disabled, and says why (title and text). */
function ChannelCheckbox({
  category,
  channel,
  reason,
  onChange,
}: {
  category: NotificationCategory;
  channel: NotificationChannel;
  reason: string | null;
  onChange: (on: boolean) => void;
}) {
  const id = useId();
  const label = `${categoryLabel(category.key)}: ${CHANNEL_LABELS[channel]}`;
  // SMS without a verified mobile is shown off, whatever is stored: nothing can be sent.
  const checked = reason?.startsWith("Verify") ? false : category.channels[channel];
  return (
    <span className="channel-cell" title={reason ?? undefined}>
      <input
        id={id}
        type="checkbox"
        className="channel-checkbox"
        name={`${category.key}.${channel}`}
        checked={checked}
        disabled={reason !== null}
        aria-label={label}
        aria-describedby={reason ? `${id}-reason` : undefined}
        onChange={(event) => onChange(event.target.checked)}
        data-testid={`notification-${category.key}-${channel}`}
        data-locked={reason ? "true" : "false"}
      />
      {reason ? (
        <>
          <LockIcon />
          <span id={`${id}-reason`} className="visually-hidden" data-testid="notification-lock-reason">
            {reason}
          </span>
        </>
      ) : null}
    </span>
  );
}

function LockIcon() {
  return (
    <svg
      className="lock-icon"
      viewBox="0 0 16 16"
      width="12"
      height="12"
      aria-hidden="true"
      focusable="false"
    >
      <path
        d="M4.5 7V5a3.5 3.5 0 0 1 7 0v2M3.5 7h9v7h-9z"
        stroke="currentColor"
        strokeWidth="1.5"
        fill="none"
        strokeLinejoin="round"
      />
    </svg>
  );
}

const CODE_FIELDS = ["code"] as const;

/** Text messages need a verified mobile: send a code to the profile's number, then type it back. */
function MobileCard({ me, onVerified }: { me: Me; onVerified: () => void }) {
  const api = useApi();
  const toast = useToast();
  const session = useSession();
  const [sent, setSent] = useState(false);
  const [busy, setBusy] = useState<"send" | "confirm" | null>(null);
  const [code, setCode] = useState("");
  const { errors, formRef, edited, refuse, fail, clear } = useFormErrors(CODE_FIELDS);

  async function send() {
    setBusy("send");
    clear();
    try {
      await api.post("/me/mobile/verification");
      setSent(true);
    } catch (error) {
      fail(error);
    } finally {
      setBusy(null);
    }
  }

  async function confirm(event: FormEvent) {
    event.preventDefault();
    const value = code.replace(/\s/g, "");
    if (!/^\d{4,8}$/.test(value)) return refuse({ code: "Enter the code from the text message." });
    setBusy("confirm");
    clear();
    try {
      await api.post("/me/mobile/verification/confirm", { code: value });
      toast.show({ text: "Your mobile number is verified: text messages can reach you." });
      setSent(false);
      setCode("");
      void session.reload();
      onVerified();
    } catch (error) {
      if (error instanceof ApiError && error.code === "invalid_code") {
        refuse({ code: "That code didn't work. Check the latest text message, or send a new code." });
      } else {
        fail(error);
      }
    } finally {
      setBusy(null);
    }
  }

  const profile = settingsPage("profile").path;

  return (
    <section className="card" aria-labelledby="mobile-heading" data-testid="mobile-verification">
      <h2 id="mobile-heading">Text messages</h2>
      {me.mobile_verified && me.mobile ? (
        <p data-testid="mobile-verified">
          Text messages go to <strong>{me.mobile}</strong>, which you have verified. To use another number,
          change it in <Link to={profile}>your profile</Link> and verify it here.
        </p>
      ) : !me.mobile ? (
        <p data-testid="mobile-missing">
          Verify your mobile number to get SMS alerts: add it in <Link to={profile}>your profile</Link> first,
          then come back here to verify it.
        </p>
      ) : (
        <>
          <p>
            Verify your mobile number to get SMS alerts. We text a code to <strong>{me.mobile}</strong>; type
            it here.
          </p>
          {errors.form ? (
            <FormAlert code={errors.code} testId="mobile-verification-error">
              {errors.form}
            </FormAlert>
          ) : null}
          {sent ? (
            <form ref={formRef} onSubmit={confirm} noValidate className="inline-verify">
              <TextField
                label="Code from the text message"
                name="code"
                inputMode="numeric"
                autoComplete="one-time-code"
                value={code}
                onValueChange={(value) => {
                  setCode(value);
                  edited("code");
                }}
                error={errors.fields.code}
                maxLength={12}
                data-testid="mobile-code"
              />
              <div className="actions">
                <button
                  type="submit"
                  className="button"
                  disabled={busy !== null}
                  data-testid="mobile-confirm"
                >
                  {busy === "confirm" ? "Checking…" : "Verify number"}
                </button>
                <button
                  type="button"
                  className="button button-secondary"
                  onClick={send}
                  disabled={busy !== null}
                  data-testid="mobile-resend"
                >
                  {busy === "send" ? "Sending…" : "Send a new code"}
                </button>
              </div>
            </form>
          ) : (
            <div className="actions">
              <button
                type="button"
                className="button button-secondary"
                onClick={send}
                disabled={busy !== null}
                data-testid="mobile-send-code"
              >
                {busy === "send" ? "Sending…" : "Text me a code"}
              </button>
            </div>
          )}
        </>
      )}
    </section>
  );
}
