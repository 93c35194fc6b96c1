import { type Static, Type } from "@sinclair/typebox";

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
});

export function completePreferences(input: PreferencesInput | null | undefined): Preferences {
  return {
    ...DEFAULT_PREFERENCES,
    ...input,
    default_list_filters: { ...DEFAULT_PREFERENCES.default_list_filters, ...input?.default_list_filters },
  } as Preferences;
}
