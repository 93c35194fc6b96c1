import { type FormEvent, useEffect, useRef, useState } from "react";
import { ApiError, describeError, rateLimitMessage } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { TextField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { Link, useSearchParam } from "../../router";
import { sameOriginPath } from "../../same-origin-path";
import type {
  LoginResponse,
  MfaChallenge,
  PublicBranding,
  SecondFactorMethod,
  SessionInfo,
} from "../../types";
import { useApi } from "../../use-api";
import { useBrandColour } from "../../use-brand-colour";
import { useFormErrors } from "../../use-form-errors";
import { brandedOrNull, passkeysOffered, usePublicBranding } from "../../use-public-branding";
import { useSession } from "../../use-session";
import { PasskeyLogin } from "./passkey-login";

/** Set in history.state by the page that ended the session, for a one-off note above the form. */
export type LoginNoticeState = { login_notice: "deactivated" | "deleted" };

function loginNotice(): LoginNoticeState["login_notice"] | null {
  const state: unknown = window.history.state;
  if (!state || typeof state !== "object" || !("login_notice" in state)) return null;
  return state.login_notice === "deactivated" || state.login_notice === "deleted" ? state.login_notice : null;
}

type LoginError = { text: string; code: string | null };

const PASSWORD_FIELDS = ["email", "password"] as const;

// A 403 (account_deactivated, membership_suspended) comes after a correct password: its detail says
// what happens next (a reactivation mail, ask an administrator), so it is shown as is.
function loginError(error: unknown): LoginError {
  if (!(error instanceof ApiError)) return { text: describeError(error), code: null };
  const { code, status } = error;
  if (status === 401) return { text: "Email or password is incorrect.", code };
  if (status === 429) return { text: rateLimitMessage(error), code };
  return { text: describeError(error), code };
}

// After signIn() the app's route guard sends the user on (profile, or security when a
// password change is required), so the pages here never navigate themselves.
export function LoginPage() {
  const [challenge, setChallenge] = useState<MfaChallenge | null>(null);
  // Kept here so that going back from the code step doesn't make the user type the address again.
  const [email, setEmail] = useState("");
  const [restartReason, setRestartReason] = useState<LoginError | null>(null);
  // The account's look (`?account=<slug>`, or the custom domain): logo, name, message, colour, links.
  const branding = usePublicBranding();
  const brand = brandedOrNull(branding);
  const passkeys = passkeysOffered(branding);
  useBrandColour(brand?.primary_color, brand?.primary_text_color);

  if (challenge) {
    return (
      <MfaStep
        brand={brand}
        passkeys={passkeys}
        challenge={challenge}
        onRestart={(reason) => {
          setRestartReason(reason);
          setChallenge(null);
        }}
      />
    );
  }
  return (
    <PasswordStep
      brand={brand}
      passkeys={passkeys}
      email={email}
      onEmailChange={setEmail}
      restartReason={restartReason}
      onChallenge={(next) => {
        setRestartReason(null);
        setChallenge(next);
      }}
    />
  );
}

type Branded = {
  /** The account's branding, or null for Gatehouse's own page. */
  brand: PublicBranding | null;
  /** False where passkeys can't work (a custom domain without related origins): no passkey button. */
  passkeys: boolean;
};

type PasswordStepProps = Branded & {
  email: string;
  onEmailChange: (email: string) => void;
  /** Why the user is back here from the code step (an expired attempt, too many wrong codes). */
  restartReason: LoginError | null;
  onChallenge: (challenge: MfaChallenge) => void;
};

function PasswordStep({
  brand,
  passkeys,
  email,
  onEmailChange,
  restartReason,
  onChallenge,
}: PasswordStepProps) {
  const api = useApi();
  const { signIn } = useSession();
  const [password, setPassword] = useState("");
  // Why the user is back from the code step, until they act on it.
  const [restart, setRestart] = useState<LoginError | null>(restartReason);
  const { errors, formRef, edited, fail, clear } = useFormErrors(PASSWORD_FIELDS);
  const [submitting, setSubmitting] = useState(false);
  const [notice, setNotice] = useState(loginNotice);

  // Back from the code step: the address is still there, so the password is what to type.
  useEffect(() => {
    if (restartReason) formRef.current?.querySelector<HTMLInputElement>("input[name='password']")?.focus();
  }, [restartReason, formRef]);

  function change(field: (typeof PASSWORD_FIELDS)[number], value: string) {
    if (field === "email") onEmailChange(value);
    else setPassword(value);
    edited(field);
    setRestart(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSubmitting(true);
    clear();
    setRestart(null);
    setNotice(null);
    try {
      const answer = await api.post<LoginResponse>("/auth/login", { email: email.trim(), password });
      if ("mfa_required" in answer && answer.mfa_required) onChallenge(answer);
      else signIn(answer as SessionInfo);
    } catch (caught) {
      // A wrong password is about both fields: the banner says so, and goes once either is edited.
      fail(caught, (next) => (next.form ? { ...next, form: loginError(caught).text } : next));
      setSubmitting(false);
    }
  }

  const banner: LoginError | null = errors.form ? { text: errors.form, code: errors.code } : restart;

  // Coming from an invitation link: say why, and keep the way back.
  const next = sameOriginPath(useSearchParam("next"), window.location.origin);
  const forInvitation = next?.startsWith("/accept-invitation") ?? false;
  // Sent by an application signing in with Gatehouse (/authorize/{uid}): back there after logging in.
  const forApplication = next?.startsWith("/authorize/") ?? false;

  return (
    <AuthLayout
      title="Log in"
      brand={brand}
      welcome={brand?.login_message}
      intro={
        forInvitation
          ? "Log in to accept your invitation."
          : forApplication
            ? "Log in to continue to the application that sent you here."
            : undefined
      }
      footer={
        <>
          New to Gatehouse? <Link to="/signup">Create an account</Link>
        </>
      }
    >
      <form ref={formRef} onSubmit={submit} noValidate>
        {notice === "deactivated" ? (
          <FormAlert tone="info" testId="deactivated-notice">
            Your login is deactivated and you are signed out everywhere. To use it again, log in here and
            confirm with the link we email you.
          </FormAlert>
        ) : null}
        {notice === "deleted" ? (
          <FormAlert tone="info" testId="deleted-notice">
            Your login was deleted and you are signed out everywhere. We emailed you a confirmation.
          </FormAlert>
        ) : null}
        {banner ? (
          <FormAlert testId="login-error" code={banner.code}>
            {banner.text}
          </FormAlert>
        ) : null}
        <TextField
          label="Email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onValueChange={(value) => change("email", value)}
          error={errors.fields.email}
        />
        <TextField
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValueChange={(value) => change("password", value)}
          error={errors.fields.password}
        />
        <p className="form-aside">
          <Link to="/forgot-password">Forgot your password?</Link>
        </p>
        <button
          type="submit"
          className="button button-block"
          disabled={submitting}
          data-testid="login-submit"
        >
          {submitting ? "Logging in…" : "Log in"}
        </button>
      </form>
      {passkeys ? (
        <>
          <p className="form-divider muted">or</p>
          <PasskeyLogin />
        </>
      ) : null}
    </AuthLayout>
  );
}

const CODE_INPUT: Record<
  SecondFactorMethod,
  { label: string; hint: string; invalid: string; inputMode: "numeric" | "text"; autoComplete: string }
> = {
  totp: {
    label: "Authentication code",
    hint: "The 6-digit code your authenticator app shows for Gatehouse.",
    invalid: "That code didn't work. Enter the current code from your app.",
    inputMode: "numeric",
    autoComplete: "one-time-code",
  },
  email: {
    label: "Code from the email",
    hint: "The 6-digit code we emailed you. It works for 10 minutes.",
    invalid: "That code didn't work. Check the latest email, or send a new code.",
    inputMode: "numeric",
    autoComplete: "one-time-code",
  },
  sms: {
    label: "Code from the text message",
    hint: "The 6-digit code we texted you. It works for 10 minutes.",
    invalid: "That code didn't work. Check the latest message, or send a new code.",
    inputMode: "numeric",
    autoComplete: "one-time-code",
  },
  recovery_code: {
    label: "Recovery code",
    hint: "One of the codes you saved when you turned on two-factor authentication, like abcd-efgh-jkmn.",
    invalid: "That code didn't work. Check it, or try another of your recovery codes.",
    inputMode: "text",
    autoComplete: "off",
  },
};

// These end the log-in attempt (`mfa_token`): only the password step can start a new one.
function restartReasonFor(error: ApiError): LoginError | null {
  if (error.code === "invalid_token") {
    return { text: "This log-in attempt expired. Enter your password again.", code: error.code };
  }
  // A longer retry-after is the user's guessing lock (across log-in attempts), not this attempt's limit.
  if (error.status === 429 && (error.retryAfter ?? 0) > 1)
    return {
      text: `Too many wrong codes: signing in is locked. Try again in ${error.retryAfter} seconds.`,
      code: error.code,
    };
  if (error.status === 429)
    return { text: "Too many wrong codes. Enter your password again.", code: error.code };
  return null;
}

type CodeMethod = "email" | "sms";

type MfaStepProps = Branded & {
  challenge: MfaChallenge;
  onRestart: (reason: LoginError | null) => void;
};

function MfaStep({ brand, passkeys, challenge, onRestart }: MfaStepProps) {
  const api = useApi();
  const { signIn } = useSession();
  const formRef = useRef<HTMLFormElement>(null);
  const offersRecovery = challenge.methods.includes("recovery_code");
  const offersTotp = challenge.methods.includes("totp");
  const offersEmail = challenge.methods.includes("email");
  const offersSms = challenge.methods.includes("sms");
  const [method, setMethod] = useState<SecondFactorMethod>(
    offersTotp
      ? "totp"
      : offersEmail
        ? "email"
        : offersSms
          ? "sms"
          : offersRecovery
            ? "recovery_code"
            : "totp",
  );
  const [sending, setSending] = useState<CodeMethod | null>(null);
  // Which kind of code went out last: its field then says where to look.
  const [sent, setSent] = useState<CodeMethod | null>(null);
  const [code, setCode] = useState("");
  const [codeError, setCodeError] = useState<string | undefined>(undefined);
  const [error, setError] = useState<LoginError | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const input = CODE_INPUT[method];

  // Focus the code on arrival and after switching between app and recovery code.
  useEffect(() => {
    void method;
    formRef.current?.querySelector<HTMLInputElement>("input[name='code']")?.focus();
  }, [method]);

  function switchTo(next: SecondFactorMethod) {
    setMethod(next);
    setCode("");
    setCodeError(undefined);
    setError(null);
  }

  // Mails or texts a code and switches to typing it in. Too soon again (429) only says to wait: the attempt lives on.
  async function sendCode(kind: CodeMethod) {
    setSending(kind);
    setError(null);
    setSent(null);
    try {
      await api.post("/auth/login/mfa/send", { mfa_token: challenge.mfa_token, method: kind });
      if (method !== kind) switchTo(kind);
      setSent(kind);
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "invalid_token") {
        onRestart(restartReasonFor(caught));
      } else if (caught instanceof ApiError && caught.status === 429) {
        setError({ text: caught.detail || rateLimitMessage(caught), code: caught.code });
      } else {
        setError(loginError(caught));
      }
    }
    setSending(null);
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    // Authenticator apps show "123 456"; recovery codes are matched ignoring spaces and dashes anyway.
    const value = method === "recovery_code" ? code.trim() : code.replace(/\s/g, "");
    if (!value) {
      setCodeError(
        method === "totp"
          ? "Enter the code from your app."
          : method === "email"
            ? sent === "email"
              ? "Enter the code from the email."
              : "Choose “Email me a code” first, then enter the code from the email."
            : method === "sms"
              ? sent === "sms"
                ? "Enter the code from the text message."
                : "Choose “Text me a code” first, then enter the code from the message."
              : "Enter one of your recovery codes.",
      );
      return;
    }
    setSubmitting(true);
    setCodeError(undefined);
    setError(null);
    try {
      signIn(
        await api.post<SessionInfo>("/auth/login/mfa", {
          mfa_token: challenge.mfa_token,
          method,
          code: value,
        }),
      );
    } catch (caught) {
      setSubmitting(false);
      if (caught instanceof ApiError && caught.code === "invalid_code") {
        setCodeError(input.invalid);
        return;
      }
      const restart = caught instanceof ApiError ? restartReasonFor(caught) : null;
      if (restart) onRestart(restart);
      else setError(loginError(caught));
    }
  }

  return (
    <AuthLayout
      title="Two-factor authentication"
      brand={brand}
      intro={
        challenge.methods.includes("passkey") && !offersTotp && !offersEmail && !offersSms
          ? "Confirm with your passkey to finish logging in, or enter one of your recovery codes."
          : method === "totp"
            ? "Enter the code from your authenticator app to finish logging in."
            : method === "email"
              ? "Enter the code we email you to finish logging in."
              : method === "sms"
                ? "Enter the code we text you to finish logging in."
                : "Enter one of your recovery codes to finish logging in. Each code works once."
      }
    >
      {passkeys && challenge.methods.includes("passkey") ? (
        <PasskeyLogin mfaToken={challenge.mfa_token} onRestart={onRestart} />
      ) : null}
      <form ref={formRef} onSubmit={submit} noValidate>
        {error ? (
          <FormAlert testId="login-error" code={error.code}>
            {error.text}
          </FormAlert>
        ) : null}
        {method === "email" && sent === "email" ? (
          <FormAlert tone="info" testId="email-code-sent">
            We sent a code to your email. It works for 10 minutes.
          </FormAlert>
        ) : null}
        {method === "sms" && sent === "sms" ? (
          <FormAlert tone="info" testId="sms-code-sent">
            We texted a code to your phone. It works for 10 minutes.
          </FormAlert>
        ) : null}
        <TextField
          key={method}
          label={input.label}
          name="code"
          hint={input.hint}
          inputMode={input.inputMode}
          autoComplete={input.autoComplete}
          autoCapitalize="none"
          spellCheck={false}
          required
          value={code}
          onValueChange={(value) => {
            setCode(value);
            setCodeError(undefined);
          }}
          error={codeError}
        />
        {offersEmail ? (
          <p className="form-aside">
            <button
              type="button"
              className="link-button link-button-flush"
              onClick={() => void sendCode("email")}
              disabled={sending !== null || submitting}
              data-testid="send-email-code"
            >
              {sending === "email"
                ? "Sending…"
                : sent === "email" && method === "email"
                  ? "Send a new code"
                  : "Email me a code"}
            </button>
          </p>
        ) : null}
        {offersSms ? (
          <p className="form-aside">
            <button
              type="button"
              className="link-button link-button-flush"
              onClick={() => void sendCode("sms")}
              disabled={sending !== null || submitting}
              data-testid="send-sms-code"
            >
              {sending === "sms"
                ? "Sending…"
                : sent === "sms" && method === "sms"
                  ? "Send a new text"
                  : "Text me a code"}
            </button>
          </p>
        ) : null}
        {offersTotp && method !== "totp" ? (
          <p className="form-aside">
            <button
              type="button"
              className="link-button link-button-flush"
              onClick={() => switchTo("totp")}
              data-testid="use-totp"
            >
              Use your authenticator app instead
            </button>
          </p>
        ) : null}
        {offersRecovery && method !== "recovery_code" ? (
          <p className="form-aside">
            <button
              type="button"
              className="link-button link-button-flush"
              onClick={() => switchTo("recovery_code")}
              data-testid="use-recovery"
            >
              Use a recovery code instead
            </button>
          </p>
        ) : null}
        <div className="actions">
          <button type="submit" className="button" disabled={submitting} data-testid="mfa-submit">
            {submitting ? "Verifying…" : "Verify"}
          </button>
          <button type="button" className="button button-ghost" onClick={() => onRestart(null)}>
            Back
          </button>
        </div>
      </form>
    </AuthLayout>
  );
}
