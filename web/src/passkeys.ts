import {
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  startRegistration,
} from "@simplewebauthn/browser";
import { type ApiClient, ApiError, describeError } from "./api";
import type { SessionInfo } from "./types";

/** `GET /me/passkeys` (docs/api-mfa.md, Passkeys). */
export type PasskeyItem = {
  id: string;
  label: string;
  created_at: string;
  last_used_at: string | null;
  backed_up: boolean;
  device_type: string;
  transports: string[];
};

type Options<T> = { challenge_id: string; options: T };

/** Creates a passkey in the browser and stores it; the first factor also returns recovery codes. */
export async function registerPasskey(api: ApiClient, label: string) {
  const { challenge_id, options } =
    await api.post<Options<PublicKeyCredentialCreationOptionsJSON>>("/me/passkeys/options");
  const response = await startRegistration({ optionsJSON: options });
  return api.post<{ passkey: PasskeyItem; recovery_codes?: string[] }>("/me/passkeys", {
    challenge_id,
    ...(label.trim() ? { label: label.trim() } : {}),
    response,
  });
}

/** Logs in with a passkey: passwordless, or with `mfaToken` as the second step of a password log-in. */
export async function signInWithPasskey(api: ApiClient, mfaToken?: string): Promise<SessionInfo> {
  const body = mfaToken ? { mfa_token: mfaToken } : {};
  const { challenge_id, options } = await api.post<Options<PublicKeyCredentialRequestOptionsJSON>>(
    "/auth/passkey/options",
    body,
  );
  const response = await startAuthentication({ optionsJSON: options });
  return api.post<SessionInfo>("/auth/passkey", { ...body, challenge_id, response });
}

/** "Confirm it's you" with one of the user's passkeys: `POST /auth/reauth/passkey` (docs/api-mfa.md). */
export async function reauthenticateWithPasskey(api: ApiClient) {
  const { challenge_id, options } = await api.post<Options<PublicKeyCredentialRequestOptionsJSON>>(
    "/auth/reauth/passkey/options",
  );
  const response = await startAuthentication({ optionsJSON: options });
  return api.post<{ reauthenticated_until: string }>("/auth/reauth/passkey", { challenge_id, response });
}

/** Words for what went wrong, in the browser (cancelled, unsupported) or at the server. */
export function passkeyErrorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.code === "passkey_unknown") return "This passkey is not registered with Gatehouse.";
    if (error.code === "passkey_challenge_invalid") return "The passkey request expired. Try again.";
    return describeError(error);
  }
  const name = error instanceof Error ? error.name : "";
  if (name === "NotAllowedError" || name === "AbortError")
    return "The passkey request was cancelled or timed out.";
  if (name === "InvalidStateError") return "This passkey is already registered.";
  if (error instanceof Error && /not supported|WebAuthn/i.test(error.message))
    return "This browser does not support passkeys.";
  return describeError(error);
}
