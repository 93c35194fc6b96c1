import { hmac, safeEqual } from "../lib/crypto.js";

/** How long a download link works after it is made (GET …/exports/{id}, or a mail). */
export const DOWNLOAD_LINK_SECONDS = 24 * 3600;

export type DownloadLink = { exportId: string; userId: string; expires: number };

const subject = (link: DownloadLink) => `export-download:${link.exportId}.${link.userId}.${link.expires}`;

/**
 * `{PUBLIC_URL}/api/v1/export-files/{exp_id}?user=…&expires=…&signature=…`: signed with SECRET_KEY
 * (HMAC-SHA256), so it needs no storage and no log-in, names the person it was made for (the audit
 * log records their download) and stops working at `expires` (Unix seconds).
 */
export function downloadUrl(publicUrl: string, secretKey: Buffer, link: DownloadLink): string {
  const query = new URLSearchParams({
    user: link.userId,
    expires: String(link.expires),
    signature: hmac(secretKey, subject(link)),
  });
  return `${publicUrl.replace(/\/+$/, "")}/api/v1/export-files/${encodeURIComponent(link.exportId)}?${query}`;
}

/** Whether `signature` is Gatehouse's for this link (its expiry is the caller's to check). */
export function verifyDownload(secretKey: Buffer, link: DownloadLink, signature: string): boolean {
  return safeEqual(signature, hmac(secretKey, subject(link)));
}
