import { txtRecordName, txtRecordValue } from "./dns-check.js";
import type { Domain } from "./domains.repository.js";

/** A custom domain as the API shows it (the domain routes, and the data of `domain.*` events). */
export function domainView(domain: Domain, cnameTarget: string) {
  return {
    id: domain.id,
    hostname: domain.hostname,
    status: domain.status,
    txt_record: { name: txtRecordName(domain.hostname), value: txtRecordValue(domain.token) },
    cname_target: cnameTarget,
    verified_at: domain.verifiedAt,
    last_checked_at: domain.lastCheckedAt,
    failure_reason: domain.failureReason,
    created_at: domain.createdAt,
  };
}

export type DomainView = ReturnType<typeof domainView>;
