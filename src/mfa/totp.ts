import * as OTPAuth from "otpauth";

export const TOTP_PERIOD = 30;

export function newTotp(secretBase32: string, label = "Gatehouse", issuer = "Gatehouse") {
  return new OTPAuth.TOTP({
    issuer,
    label,
    algorithm: "SHA1",
    digits: 6,
    period: TOTP_PERIOD,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/**
 * The time step a code belongs to (within ±1 step of `now`), or undefined. The caller accepts each
 * step once per factor, so a code cannot be replayed.
 */
export function matchingStep(secretBase32: string, code: string, now: Date): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const delta = newTotp(secretBase32).validate({ token: code, timestamp: now.getTime(), window: 1 });
  if (delta === null) return undefined;
  return Math.floor(now.getTime() / 1000 / TOTP_PERIOD) + delta;
}
