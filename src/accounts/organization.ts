import { Type } from "@sinclair/typebox";
import { Email, Nullable, Str } from "../http/schemas.js";

/** The organization profile's fixed lists (API.md "Organization and branding"). */
export const INDUSTRIES = [
  "software",
  "fintech",
  "healthcare",
  "education",
  "ecommerce",
  "media",
  "manufacturing",
  "government",
  "nonprofit",
  "professional_services",
  "other",
] as const;
export type Industry = (typeof INDUSTRIES)[number];

export const CERTIFICATIONS = ["soc2", "iso27001", "hipaa", "gdpr", "pci_dss", "other"] as const;
export type Certification = (typeof CERTIFICATIONS)[number];

/**
 * ISO 3166-1 alpha-2: the 249 officially assigned codes (not the user-assigned or reserved ones such
 * as XK, EU or UK, which Intl.DisplayNames would also name).
 */
export const COUNTRIES: ReadonlySet<string> = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT " +
    "BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH " +
    "ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT " +
    "HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS " +
    "LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI " +
    "NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG " +
    "SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG " +
    "UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" "),
);

export const COUNTRY_MESSAGE = "Enter a country as its two-letter ISO 3166 code, like DE or US";

export type PostalAddress = {
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postal_code: string | null;
  /** ISO 3166-1 alpha-2, upper case. */
  country: string;
};

/**
 * One of `values`, as a string enum rather than a union of literals: Ajv then checks `uniqueItems` over an
 * array of them with a hash; over a union it compares every pair (10,000 items: 80 s of CPU, before the
 * array's maxItems had even been reported).
 */
const Literals = <T extends readonly string[]>(values: T) =>
  Type.Unsafe<T[number]>({ type: "string", enum: [...values] });

export const AddressSchema = Type.Object({
  line1: Type.String(),
  line2: Nullable(Type.String()),
  city: Type.String(),
  region: Nullable(Type.String()),
  postal_code: Nullable(Type.String()),
  country: Type.String(),
});

export const AddressInput = Type.Object(
  {
    line1: Str(200, { minLength: 1 }),
    line2: Type.Optional(Nullable(Str(200))),
    city: Str(100, { minLength: 1 }),
    region: Type.Optional(Nullable(Str(100))),
    postal_code: Type.Optional(Nullable(Str(20))),
    country: Str(2, { minLength: 2, format: "country" }),
  },
  { additionalProperties: false },
);

/** The profile fields PATCH /accounts/{id} takes besides name, contact email and default role. */
export const OrganizationInput = {
  legal_name: Type.Optional(Nullable(Str(200))),
  website: Type.Optional(Nullable(Str(2048, { format: "uri", pattern: "^https?://" }))),
  industry: Type.Optional(Nullable(Literals(INDUSTRIES))),
  industry_other: Type.Optional(
    Nullable(Str(100, { description: 'Only with industry "other": what it is' })),
  ),
  phone: Type.Optional(
    Nullable(Str(32, { format: "phone_number", description: "With its country code; stored in E.164 form" })),
  ),
  address: Type.Optional(Nullable(AddressInput)),
  tax_id: Type.Optional(Nullable(Str(64))),
  billing_email: Type.Optional(Nullable(Email)),
  certifications: Type.Optional(Type.Array(Literals(CERTIFICATIONS), { uniqueItems: true, maxItems: 6 })),
};

export const OrganizationFields = {
  legal_name: Nullable(Type.String()),
  website: Nullable(Type.String()),
  industry: Nullable(Type.String()),
  industry_other: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  address: Nullable(AddressSchema),
  tax_id: Nullable(Type.String()),
  billing_email: Nullable(Type.String()),
  certifications: Type.Array(Type.String()),
};

/** Blank optional text is no text. */
export const blankToNull = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null || value.trim() === "" ? null : value.trim();

export function normalizeAddress(input: {
  line1: string;
  line2?: string | null;
  city: string;
  region?: string | null;
  postal_code?: string | null;
  country: string;
}): PostalAddress {
  return {
    line1: input.line1.trim(),
    line2: blankToNull(input.line2) ?? null,
    city: input.city.trim(),
    region: blankToNull(input.region) ?? null,
    postal_code: blankToNull(input.postal_code) ?? null,
    country: input.country.toUpperCase(),
  };
}

export function parseAddress(text: string | null): PostalAddress | null {
  return text ? (JSON.parse(text) as PostalAddress) : null;
}
