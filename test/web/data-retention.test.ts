import { describe, expect, it } from "vitest";
import { ApiError } from "../../web/src/api.js";
import {
  type DataRetention,
  formFrom,
  RETENTION_SETTINGS,
  retentionPatch,
} from "../../web/src/data-retention.js";
import { toFormErrors } from "../../web/src/form-errors.js";

const inForce = {
  days: 30,
  effective_from: "2026-12-01T00:00:00.000Z",
  grace_until: "2026-12-01T00:00:00.000Z",
  days_before: null,
};
const free: DataRetention = {
  audit_log_days: 30,
  export_files_days: 7,
  deleted_member_days: 30,
  plan: "free",
  bounds: {
    audit_log_days: { min: 1, max: 30, forever: false },
    export_files_days: { min: 1, max: 90, forever: false },
    deleted_member_days: { min: 1, max: 365, forever: false },
  },
  in_force: { audit_log_days: inForce, export_files_days: inForce, deleted_member_days: inForce },
};
const enterprise: DataRetention = {
  ...free,
  plan: "enterprise",
  bounds: { ...free.bounds, audit_log_days: { min: 1, max: 36_500, forever: true } },
};

describe("the data retention form", () => {
  it("sends only the changed settings", () => {
    expect(retentionPatch(formFrom(free), free)).toEqual({ patch: {} });
    expect(retentionPatch({ ...formFrom(free), export_files_days: " 14 " }, free)).toEqual({
      patch: { export_files_days: 14 },
    });
  });

  it("names each field outside the plan's bounds before sending", () => {
    const result = retentionPatch(
      { ...formFrom(free), audit_log_days: "31", export_files_days: "-1", deleted_member_days: "2.5" },
      free,
    );
    expect(result).toEqual({
      errors: {
        audit_log_days: "Enter a whole number of days from 1 to 30.",
        export_files_days: "Enter a whole number of days from 1 to 90.",
        deleted_member_days: "Enter a whole number of days from 1 to 365.",
      },
    });
  });

  it("keeps the audit log forever only where the plan allows, as null", () => {
    expect(
      retentionPatch({ ...formFrom(enterprise), audit_forever: true, audit_log_days: "" }, enterprise),
    ).toEqual({
      patch: { audit_log_days: null },
    });
    expect(formFrom({ ...enterprise, audit_log_days: null }).audit_forever).toBe(true);
  });

  it("shows the API's 422 on the field it names", () => {
    const error = new ApiError({
      status: 422,
      code: "out_of_range",
      detail: "audit_log_days must be 1–30 days",
      errors: [
        { path: "/audit_log_days", code: "out_of_range", message: "audit_log_days must be 1–30 days" },
      ],
    });
    const shown = toFormErrors(error, RETENTION_SETTINGS);
    expect(shown.fields).toEqual({ audit_log_days: "audit_log_days must be 1–30 days" });
    expect(shown.form).toBeNull();
  });
});
