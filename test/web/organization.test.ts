import { describe, expect, it } from "vitest";
import {
  CERTIFICATIONS,
  countrySelectOptions,
  INDUSTRIES,
  ISO_COUNTRIES,
} from "../../web/src/organization.js";

describe("the organization profile's lists", () => {
  it("offers exactly the API's industries and certifications", () => {
    expect(INDUSTRIES.map((industry) => industry.value)).toEqual([
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
    ]);
    expect(CERTIFICATIONS.map((certification) => certification.value)).toEqual([
      "soc2",
      "iso27001",
      "hipaa",
      "gdpr",
      "pci_dss",
      "other",
    ]);
  });

  it("lists the 249 ISO 3166-1 alpha-2 countries once each", () => {
    expect(ISO_COUNTRIES).toHaveLength(249);
    expect(new Set(ISO_COUNTRIES).size).toBe(249);
    for (const code of ISO_COUNTRIES) expect(code).toMatch(/^[A-Z]{2}$/);
    expect(ISO_COUNTRIES).toEqual(expect.arrayContaining(["GB", "US", "DE", "SS", "ZW"]));
    // Codes that are not ISO 3166-1 (exceptional or user-assigned) are not offered.
    for (const code of ["UK", "EU", "XK", "AC", "TA"]) expect(ISO_COUNTRIES).not.toContain(code);
  });

  it("names the countries in the language asked for, sorted by that name", () => {
    const english = countrySelectOptions("en");
    expect(english).toHaveLength(249);
    expect(english.find((option) => option.value === "DE")?.label).toBe("Germany");
    const german = countrySelectOptions("de");
    expect(german.find((option) => option.value === "DE")?.label).toBe("Deutschland");
    const labels = english.map((option) => option.label);
    expect(labels).toEqual([...labels].sort(new Intl.Collator("en").compare));
    expect(countrySelectOptions("not a locale!")).toHaveLength(249);
  });
});
