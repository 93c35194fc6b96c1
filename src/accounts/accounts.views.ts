import type { Account } from "./accounts.repository.js";

/** An account's profile as the API shows it (the account routes, and the data of `account.updated`). */
export const accountView = (a: Account) => ({
  id: a.id,
  name: a.name,
  slug: a.slug,
  logo_url: a.logoUrl,
  logo_thumb_url: a.logoThumbUrl,
  legal_name: a.legalName,
  website: a.website,
  industry: a.industry,
  industry_other: a.industryOther,
  phone: a.phone,
  address: a.address,
  contact_email: a.contactEmail,
  billing_email: a.billingEmail,
  tax_id: a.taxId,
  certifications: a.certifications,
  default_role_id: a.defaultRoleId,
  created_at: a.createdAt,
  updated_at: a.updatedAt,
});
