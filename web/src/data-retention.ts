// Kept free of React so test/web can check it: the retention form's values, bounds and PATCH body.

export const RETENTION_SETTINGS = ["audit_log_days", "export_files_days", "deleted_member_days"] as const;
export type RetentionSetting = (typeof RETENTION_SETTINGS)[number];

export type RetentionBounds = { min: number; max: number; forever: boolean };
export type RetentionInForce = {
  days: number | null;
  effective_from: string;
  grace_until: string;
  days_before: number | null;
};

/** `GET /accounts/{id}/data-retention` (docs/api-data.md, "Retention"). */
export type DataRetention = Record<RetentionSetting, number | null> & {
  plan: string;
  bounds: Record<RetentionSetting, RetentionBounds>;
  in_force: Record<RetentionSetting, RetentionInForce>;
};

export const RETENTION_LABELS: Record<RetentionSetting, { label: string; hint: string }> = {
  audit_log_days: {
    label: "Keep the audit log (days)",
    hint: "Older events are deleted; the log stays verifiable.",
  },
  export_files_days: {
    label: "Keep export files (days)",
    hint: "Finished exports can be downloaded this long.",
  },
  deleted_member_days: {
    label: "Anonymise people who left after (days)",
    hint: "Names and addresses of removed members and ended invitations are then erased.",
  },
};

export const PLAN_NAMES: Record<string, string> = {
  free: "Free",
  pro: "Pro",
  team: "Team",
  enterprise: "Enterprise",
};

export type RetentionFormValues = Record<RetentionSetting, string> & { audit_forever: boolean };

export function formFrom(data: DataRetention): RetentionFormValues {
  return {
    audit_log_days: data.audit_log_days === null ? "" : String(data.audit_log_days),
    export_files_days: String(data.export_files_days),
    deleted_member_days: String(data.deleted_member_days),
    audit_forever: data.audit_log_days === null,
  };
}

export const rangeOf = (b: RetentionBounds) =>
  `${b.min}–${b.max} days${b.forever ? ", or keep forever" : ""}`;

/**
 * The changed settings as a PATCH body, or the field errors found before sending. Only changed fields
 * are sent, so a value the plan no longer allows (after a downgrade) does not block saving the others.
 */
export function retentionPatch(
  form: RetentionFormValues,
  saved: DataRetention,
): { patch: Partial<Record<RetentionSetting, number | null>> } | { errors: Record<string, string> } {
  const patch: Partial<Record<RetentionSetting, number | null>> = {};
  const errors: Record<string, string> = {};
  for (const setting of RETENTION_SETTINGS) {
    const bounds = saved.bounds[setting];
    let value: number | null;
    if (setting === "audit_log_days" && form.audit_forever) value = null;
    else {
      const text = form[setting].trim();
      value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(value) || (value as number) < bounds.min || (value as number) > bounds.max) {
        errors[setting] = `Enter a whole number of days from ${bounds.min} to ${bounds.max}.`;
        continue;
      }
    }
    if (value !== saved[setting]) patch[setting] = value;
  }
  return Object.keys(errors).length > 0 ? { errors } : { patch };
}
