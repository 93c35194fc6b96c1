import { type FormEvent, type ReactNode, useCallback, useEffect, useRef, useState } from "react";
import { ApiError, describeError } from "../../api";
import { AuthLayout } from "../../components/auth-layout";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import {
  type AuthorizeStep,
  authorizeStep,
  consentScopes,
  loginPathFor,
  type OidcInteraction,
  safeLogo,
  scopeWords,
} from "../../oidc";
import { Link, navigate, useSearchParam } from "../../router";
import { useApi } from "../../use-api";
import { useBrandColour } from "../../use-brand-colour";
import { brandedOrNull, usePublicBranding } from "../../use-public-branding";
import { isSecurityOnly, securityFirstPath, useSession } from "../../use-session";

type Load =
  | { status: "loading" }
  | { status: "ready"; interaction: OidcInteraction }
  | { status: "expired" }
  | { status: "error"; message: string };

const interactionPath = (uid: string) => `/oidc/interactions/${encodeURIComponent(uid)}`;

/**
 * `/authorize/{uid}`: where Gatehouse's OpenID Connect provider sends the browser when an application
 * asks to sign someone in. Signed out → the login page, which comes back here; then the account to act
 * in (when there are several), consent for third-party applications, and back to the application.
 */
export function AuthorizePage({ uid }: { uid: string }) {
  const api = useApi();
  const { state } = useSession();
  // A password change or a second factor is due first: the server refuses to complete until then.
  const securityFirst = state.status === "authenticated" && isSecurityOnly(state.info);
  const account = useSearchParam("account");
  const branding = usePublicBranding();
  const brand = brandedOrNull(branding);
  useBrandColour(brand?.primary_color, brand?.primary_text_color);
  const [load, setLoad] = useState<Load>({ status: "loading" });
  const [chosenAccount, setChosenAccount] = useState<string | null>(null);
  const [choosing, setChoosing] = useState(false);
  const [submitting, setSubmitting] = useState(false);
  const [failure, setFailure] = useState<{ text: string; code: string | null } | null>(null);

  useEffect(() => {
    let live = true;
    api.get<OidcInteraction>(interactionPath(uid)).then(
      (interaction) => live && setLoad({ status: "ready", interaction }),
      (error: unknown) => {
        if (!live) return;
        if (error instanceof ApiError && error.status === 404) setLoad({ status: "expired" });
        else setLoad({ status: "error", message: describeError(error) });
      },
    );
    return () => {
      live = false;
    };
  }, [api, uid]);

  const complete = useCallback(
    async (approve: boolean, accountId: string | null) => {
      setSubmitting(true);
      setFailure(null);
      try {
        const { redirect_to } = await api.post<{ redirect_to: string }>(`${interactionPath(uid)}/complete`, {
          approve,
          ...(accountId ? { account_id: accountId } : {}),
        });
        window.location.assign(redirect_to);
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) setLoad({ status: "expired" });
        else setFailure({ text: describeError(error), code: error instanceof ApiError ? error.code : null });
        setSubmitting(false);
      }
    },
    [api, uid],
  );

  const interaction = load.status === "ready" ? load.interaction : null;
  const step: AuthorizeStep | null = interaction
    ? choosing && interaction.accounts.length > 1
      ? { kind: "choose-account" }
      : authorizeStep(interaction, chosenAccount)
    : null;

  // Signed out: log in first, then the login page sends the browser back here. Signed in with a
  // password change or a second factor due: the Security tab, which offers the way back here once done.
  const stepKind = step?.kind;
  useEffect(() => {
    if (stepKind === "sign-in") navigate(loginPathFor(uid, account), { replace: true });
    else if (stepKind && securityFirst)
      navigate(securityFirstPath(`/authorize/${encodeURIComponent(uid)}`), { replace: true });
  }, [stepKind, securityFirst, uid, account]);

  // A first-party application with nothing to choose: no question to ask, back to it at once.
  const completedAtOnce = useRef(false);
  useEffect(() => {
    if (step?.kind !== "complete" || securityFirst || completedAtOnce.current) return;
    completedAtOnce.current = true;
    void complete(true, step.accountId);
  }, [step, securityFirst, complete]);

  if (load.status === "expired") return <Expired brand={brand} />;
  if (load.status === "error")
    return (
      <AuthLayout title="Sign in to an application" brand={brand}>
        <FormAlert testId="authorize-error">{load.message}</FormAlert>
        <button type="button" className="button button-block" onClick={() => window.location.reload()}>
          Try again
        </button>
      </AuthLayout>
    );
  if (
    !interaction ||
    !step ||
    step.kind === "sign-in" ||
    securityFirst ||
    (step.kind === "complete" && !failure)
  )
    return (
      <AuthLayout title="Signing you in" brand={brand}>
        <LoadingBlock label="Signing you in…" />
      </AuthLayout>
    );

  const clientName = interaction.client.name;
  const alert = failure ? (
    <FormAlert testId="authorize-error" code={failure.code}>
      {failure.text}
    </FormAlert>
  ) : null;

  if (step.kind === "no-account")
    return (
      <AuthLayout title={`Sign in to ${clientName}`} brand={brand}>
        <FormAlert testId="authorize-no-account">
          {clientName} needs an account to act in, and you are not an active member of any. Ask an
          administrator to invite you, or create an account.
        </FormAlert>
        <button
          type="button"
          className="button button-secondary button-block"
          disabled={submitting}
          onClick={() => void complete(false, null)}
          data-testid="authorize-deny"
        >
          Back to {clientName}
        </button>
      </AuthLayout>
    );

  if (step.kind === "choose-account")
    return (
      <AccountChooser
        interaction={interaction}
        brand={brand}
        initial={chosenAccount}
        alert={alert}
        onChoose={(accountId) => {
          setChosenAccount(accountId);
          setChoosing(false);
        }}
      />
    );

  // Consent, or a first-party completion that failed (shown with the same buttons to try again).
  const chosen = interaction.accounts.find((a) => a.account_id === step.accountId) ?? null;
  const logo = safeLogo(interaction.client.logo_uri);
  const thirdParty = step.kind === "consent";
  return (
    <AuthLayout
      title={thirdParty ? `${clientName} wants to access your Gatehouse login` : `Sign in to ${clientName}`}
      brand={brand}
    >
      <div className="consent" data-testid="authorize-consent" data-client-id={interaction.client.client_id}>
        {logo ? (
          <img src={logo} alt={`${clientName} logo`} className="consent-logo" referrerPolicy="no-referrer" />
        ) : null}
        {alert}
        {thirdParty ? (
          <>
            <p>
              <strong>{clientName}</strong> is not made by the people who run this Gatehouse. If you allow it,
              it will be able to:
            </p>
            <ul className="consent-scopes" data-testid="authorize-scopes">
              {consentScopes(interaction.scopes).map((scope) => (
                <li key={scope} data-scope={scope}>
                  {scopeWords(scope)}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        {chosen ? (
          <p data-testid="authorize-account">
            Account: <strong>{chosen.account_name}</strong>{" "}
            <span className="muted">({chosen.role.name})</span>
            {interaction.accounts.length > 1 ? (
              <>
                {" "}
                <button
                  type="button"
                  className="link-button"
                  onClick={() => setChoosing(true)}
                  data-testid="authorize-change-account"
                >
                  Change account
                </button>
              </>
            ) : null}
          </p>
        ) : null}
        {thirdParty ? (
          <p className="muted">
            You can revoke its access at any time: an administrator of the account can, under Settings →
            Connected apps.
          </p>
        ) : null}
        <div className="consent-actions">
          <button
            type="button"
            className="button"
            disabled={submitting}
            onClick={() => void complete(true, step.accountId)}
            data-testid="authorize-allow"
          >
            {submitting ? "Working…" : thirdParty ? "Allow" : "Continue"}
          </button>
          <button
            type="button"
            className="button button-secondary"
            disabled={submitting}
            onClick={() => void complete(false, step.accountId)}
            data-testid="authorize-deny"
          >
            {thirdParty ? "Deny" : "Cancel"}
          </button>
        </div>
      </div>
    </AuthLayout>
  );
}

function AccountChooser({
  interaction,
  brand,
  initial,
  alert,
  onChoose,
}: {
  interaction: OidcInteraction;
  brand: ReturnType<typeof brandedOrNull>;
  initial: string | null;
  alert: ReactNode;
  onChoose: (accountId: string) => void;
}) {
  const [selected, setSelected] = useState(initial ?? interaction.accounts[0]?.account_id ?? "");
  function submit(event: FormEvent) {
    event.preventDefault();
    if (selected) onChoose(selected);
  }
  return (
    <AuthLayout
      title="Choose an account"
      intro={`${interaction.client.name} will act in the account you choose, with your role there.`}
      brand={brand}
    >
      {alert}
      <form onSubmit={submit} data-testid="authorize-accounts" noValidate>
        <fieldset className="field radio-list">
          <legend>Account</legend>
          {interaction.accounts.map((account) => {
            const id = `account-${account.account_id}`;
            return (
              <div key={account.account_id} className="radio-option">
                <input
                  id={id}
                  type="radio"
                  name="account_id"
                  value={account.account_id}
                  checked={selected === account.account_id}
                  onChange={() => setSelected(account.account_id)}
                  aria-describedby={`${id}-role`}
                />
                <label htmlFor={id}>{account.account_name}</label>
                <span id={`${id}-role`} className="field-hint">
                  Your role: {account.role.name}
                </span>
              </div>
            );
          })}
        </fieldset>
        <button type="submit" className="button button-block" data-testid="authorize-account-continue">
          Continue
        </button>
      </form>
    </AuthLayout>
  );
}

function Expired({ brand }: { brand: ReturnType<typeof brandedOrNull> }) {
  return (
    <AuthLayout title="This sign-in link has expired" brand={brand}>
      <FormAlert testId="authorize-expired" code="interaction_not_found">
        The request to sign in to an application has expired or was already used.
      </FormAlert>
      <p>Go back to the application and start signing in again.</p>
      <p>
        <button type="button" className="link-button" onClick={() => window.history.back()}>
          Go back
        </button>{" "}
        · <Link to="/">Go to Gatehouse</Link>
      </p>
    </AuthLayout>
  );
}
