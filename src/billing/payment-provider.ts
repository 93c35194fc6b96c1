import { randomBytes } from "node:crypto";
import { AppError } from "../http/errors.js";

export type PaymentMethodType = "card" | "ach";

/** What a provider keeps for us after tokenizing: display fields and its own reference to charge. */
export type TokenizedMethod = {
  brand?: string;
  bank_name?: string;
  last4: string;
  exp_month?: number;
  exp_year?: number;
  provider_ref: string;
};

export type ChargeRequest = {
  provider_ref: string;
  /** Integer cents. */
  amount: number;
  currency: string;
  invoice_number: string;
  /** One per invoice and attempt: a processor that supports idempotency keys must not charge twice. */
  idempotency_key: string;
};

export type ChargeResult = { ok: true; reference: string } | { ok: false; error: string };

/**
 * A payment processor. To plug a real one (Stripe, Adyen, …): implement this with its SDK — `tokenize`
 * exchanges the token the browser got from the processor's own form for a stored customer payment
 * method (throw `AppError("validation_failed", …)` when it is refused), `charge` charges it and
 * answers a decline as `{ ok: false, error }` (throw only for outages: the attempt is then retried on
 * schedule) — and pass it to `createServices({ …, paymentProvider })`.
 */
export type PaymentProvider = {
  /** Stored with each payment method; methods of another provider cannot be charged by this one. */
  name: string;
  /** Shown to people next to every payment method. */
  label: string;
  /** True when no real money moves. */
  test_mode: boolean;
  tokenize(type: PaymentMethodType, token: string): Promise<TokenizedMethod>;
  charge(request: ChargeRequest): Promise<ChargeResult>;
};

type TestToken = TokenizedMethod & { type: PaymentMethodType; declines: boolean };

/** The offline provider's test tokens (as a processor's test mode documents them). */
export const OFFLINE_TEST_TOKENS: Readonly<Record<string, TestToken>> = Object.freeze({
  tok_visa: {
    type: "card",
    brand: "Visa",
    last4: "4242",
    exp_month: 12,
    exp_year: 2034,
    provider_ref: "tok_visa",
    declines: false,
  },
  tok_mastercard: {
    type: "card",
    brand: "Mastercard",
    last4: "4444",
    exp_month: 8,
    exp_year: 2033,
    provider_ref: "tok_mastercard",
    declines: false,
  },
  tok_amex: {
    type: "card",
    brand: "American Express",
    last4: "8431",
    exp_month: 3,
    exp_year: 2035,
    provider_ref: "tok_amex",
    declines: false,
  },
  tok_declined: {
    type: "card",
    brand: "Visa",
    last4: "0002",
    exp_month: 11,
    exp_year: 2034,
    provider_ref: "tok_declined",
    declines: true,
  },
  tok_ach: {
    type: "ach",
    bank_name: "Test Bank",
    last4: "6789",
    provider_ref: "tok_ach",
    declines: false,
  },
  tok_ach_declined: {
    type: "ach",
    bank_name: "Test Bank",
    last4: "1116",
    provider_ref: "tok_ach_declined",
    declines: true,
  },
});

/**
 * The built-in offline test provider: no processor, no network, no real money. It accepts the test
 * tokens above, and charges "succeed" unless the method was made from a declining token.
 */
export function createOfflineProvider(): PaymentProvider {
  const lookup = (ref: string) =>
    Object.hasOwn(OFFLINE_TEST_TOKENS, ref) ? OFFLINE_TEST_TOKENS[ref] : undefined;
  return {
    name: "offline",
    label: "Offline test provider (no real charges)",
    test_mode: true,
    async tokenize(type, token) {
      const known = lookup(token);
      if (!known || known.type !== type) {
        const tokens = Object.entries(OFFLINE_TEST_TOKENS)
          .filter(([, t]) => t.type === type)
          .map(([name]) => name);
        throw new AppError("validation_failed", "The offline test provider does not know this token", {
          errors: [
            {
              path: "token",
              code: "unknown_token",
              message: `Use one of the offline test provider's ${type} tokens: ${tokens.join(", ")}`,
            },
          ],
        });
      }
      const { type: _type, declines: _declines, ...method } = known;
      return method;
    },
    async charge(request) {
      const known = lookup(request.provider_ref);
      if (!known) return { ok: false, error: "Unknown payment method (offline test provider)" };
      if (known.declines) {
        return {
          ok: false,
          error:
            known.type === "card"
              ? "The card was declined (offline test provider)"
              : "The bank declined the debit (offline test provider)",
        };
      }
      return { ok: true, reference: `offline_ch_${randomBytes(9).toString("base64url")}` };
    },
  };
}
