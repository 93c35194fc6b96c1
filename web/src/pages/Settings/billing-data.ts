// What the Billing tab's cards share: the billing endpoints of the current account and how to name things.
import { useMemo } from "react";
import type { BillingInterval, PaymentMethod, Plan, PlanId } from "../../types";
import { useSession } from "../../use-session";
import { useAccountPath } from "./account-data";

/** Downloads (PDF, CSV) are plain links, so they carry the client's base path themselves. */
const API_BASE = "/api/v1";

export type BillingPaths = {
  overview: string;
  subscription: string;
  autoPay: string;
  invoices: string;
  invoice(id: string): string;
  invoicePay(id: string): string;
  paymentMethods: string;
  paymentMethod(id: string): string;
  /** Absolute URLs for links. */
  invoicePdfUrl(id: string): string;
  invoicesCsvUrl: string;
};

export function useBillingPaths(): BillingPaths {
  const account = useAccountPath();
  return useMemo(() => {
    const invoice = (id: string) => `${account}/invoices/${encodeURIComponent(id)}`;
    return {
      overview: `${account}/billing`,
      subscription: `${account}/billing/subscription`,
      autoPay: `${account}/billing/auto-pay`,
      invoices: `${account}/invoices`,
      invoice,
      invoicePay: (id) => `${invoice(id)}/pay`,
      paymentMethods: `${account}/payment-methods`,
      paymentMethod: (id) => `${account}/payment-methods/${encodeURIComponent(id)}`,
      invoicePdfUrl: (id) => `${API_BASE}${invoice(id)}/pdf`,
      invoicesCsvUrl: `${API_BASE}${account}/invoices.csv`,
    };
  }, [account]);
}

/** Calendar dates (periods, billing dates) in the user's timezone, without a time of day. */
export function useFormatDay(): (iso: string | null | undefined) => string {
  const { state } = useSession();
  const timeZone = state.status === "authenticated" ? (state.info.user.timezone ?? undefined) : undefined;
  return useMemo(() => {
    let formatter: Intl.DateTimeFormat;
    try {
      formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone });
    } catch {
      formatter = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
    }
    return (iso) => {
      if (!iso) return "—";
      const date = new Date(iso);
      return Number.isNaN(date.getTime()) ? iso : formatter.format(date);
    };
  }, [timeZone]);
}

const PLAN_NAMES: Record<PlanId, string> = {
  free: "Free",
  pro: "Pro",
  team: "Team",
  enterprise: "Enterprise",
};

/** The catalog's name for a plan (operators may rename plans), else the default one. */
export function planName(plans: readonly Plan[] | undefined, id: PlanId): string {
  return plans?.find((plan) => plan.id === id)?.name ?? PLAN_NAMES[id] ?? id;
}

export function intervalLabel(interval: BillingInterval | null): string {
  if (interval === "year") return "Annual";
  if (interval === "month") return "Monthly";
  return "No billing";
}

/** Rank for "upgrade" vs "downgrade" wording. */
export const PLAN_RANK: Record<PlanId, number> = { free: 0, pro: 1, team: 2, enterprise: 3 };

const PROVIDER_LABELS: Record<string, string> = {
  offline: "Offline test provider",
  test: "Offline test provider",
};

export function providerLabel(provider: string): string {
  return PROVIDER_LABELS[provider] ?? provider;
}

/** "Visa •••• 4242" / "Chase •••• 6789". */
export function paymentMethodLabel(
  method: Pick<PaymentMethod, "type" | "brand" | "bank_name" | "last4">,
): string {
  const name =
    method.type === "ach" ? (method.bank_name ?? "Bank account") : capitalize(method.brand ?? "Card");
  return `${name} •••• ${method.last4}`;
}

function capitalize(text: string): string {
  return text.length > 0 ? text[0]?.toUpperCase() + text.slice(1) : text;
}

/** The offline test provider's tokens: the user picks one instead of typing card numbers. */
export const TEST_TOKENS = [
  { token: "tok_visa", type: "card", label: "Visa card", note: "Payments succeed." },
  { token: "tok_mastercard", type: "card", label: "Mastercard", note: "Payments succeed." },
  { token: "tok_amex", type: "card", label: "American Express card", note: "Payments succeed." },
  { token: "tok_declined", type: "card", label: "Card that is declined", note: "Every payment fails." },
  { token: "tok_ach", type: "ach", label: "US bank account (ACH)", note: "Payments succeed." },
  {
    token: "tok_ach_declined",
    type: "ach",
    label: "US bank account (ACH) that is declined",
    note: "Every payment fails.",
  },
] as const satisfies ReadonlyArray<{
  token: string;
  type: PaymentMethod["type"];
  label: string;
  note: string;
}>;

export type TestToken = (typeof TEST_TOKENS)[number]["token"];
