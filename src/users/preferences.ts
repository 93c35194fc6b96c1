import { type Static, Type } from "@sinclair/typebox";
import { AUDIT_CATEGORIES } from "../audit/audit-categories.js";

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

export const THEMES = ["light", "dark", "system"] as const;
export const DATE_RANGES = [
  "today",
  "last_7_days",
  "last_30_days",
  "last_90_days",
  "last_12_months",
  "year_to_date",
] as const;
export const CHART_METRICS = ["active_users", "sessions", "logins", "api_calls", "errors"] as const;
export const LIST_STATUSES = ["all", "active", "suspended", "deactivated", "pending"] as const;

export const AUDIT_FILTER_CATEGORIES = ["all", ...AUDIT_CATEGORIES] as const;
export const AUDIT_FILTER_RANGES = [
  "all_time",
  "today",
  "last_7_days",
  "last_30_days",
  "last_90_days",
] as const;
export const INVOICE_FILTER_STATUSES = ["all", "open", "paid", "failed", "void"] as const;

export const AuditFilterSchema = Type.Object(
  { category: literals(AUDIT_FILTER_CATEGORIES), range: literals(AUDIT_FILTER_RANGES) },
  { additionalProperties: false },
);

export const InvoicesFilterSchema = Type.Object(
  { status: literals(INVOICE_FILTER_STATUSES) },
  { additionalProperties: false },
);

export const ListFiltersSchema = Type.Object(
  {
    status: literals(LIST_STATUSES),
    page_size: Type.Union([Type.Literal(10), Type.Literal(25), Type.Literal(50), Type.Literal(100)]),
  },
  { additionalProperties: false },
);

export const PreferencesSchema = Type.Object(
  {
    theme: literals(THEMES),
    animations: Type.Boolean(),
    default_date_range: literals(DATE_RANGES),
    default_chart_metric: literals(CHART_METRICS),
    default_list_filters: ListFiltersSchema,
    default_audit_filter: AuditFilterSchema,
    default_invoices_filter: InvoicesFilterSchema,
  },
  { additionalProperties: false },
);

export type Preferences = Static<typeof PreferencesSchema>;

/** PUT body: any field may be left out and takes its default. */
export const PreferencesInputSchema = Type.Partial(
  Type.Object(
    {
      ...PreferencesSchema.properties,
      default_list_filters: Type.Partial(ListFiltersSchema, { additionalProperties: false }),
      default_audit_filter: Type.Partial(AuditFilterSchema, { additionalProperties: false }),
      default_invoices_filter: Type.Partial(InvoicesFilterSchema, { additionalProperties: false }),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false },
);

export type PreferencesInput = Static<typeof PreferencesInputSchema>;

export const DEFAULT_PREFERENCES: Readonly<Preferences> = Object.freeze<Preferences>({
  theme: "system",
  animations: true,
  default_date_range: "last_30_days",
  default_chart_metric: "active_users",
  default_list_filters: { status: "all", page_size: 50 },
  default_audit_filter: { category: "all", range: "all_time" },
  default_invoices_filter: { status: "all" },
});

export function completePreferences(input: PreferencesInput | null | undefined): Preferences {
  return {
    ...DEFAULT_PREFERENCES,
    ...input,
    default_list_filters: { ...DEFAULT_PREFERENCES.default_list_filters, ...input?.default_list_filters },
    default_audit_filter: { ...DEFAULT_PREFERENCES.default_audit_filter, ...input?.default_audit_filter },
    default_invoices_filter: {
      ...DEFAULT_PREFERENCES.default_invoices_filter,
      ...input?.default_invoices_filter,
    },
  } as Preferences;
}
