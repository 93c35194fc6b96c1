/** How a stored file's key becomes the address it is served at (`GET /files/{key}`). */
export type FileUrl = (key: string) => string;

/** `{PUBLIC_URL}/files/<key>`: absolute, because mails, webhooks and custom domains show them too. */
export function fileUrlFor(publicUrl: string): FileUrl {
  const base = `${publicUrl.replace(/\/+$/, "")}/files/`;
  return (key) => `${base}${key}`;
}

/** Without a public URL (repositories made outside the composition root): a path on this host. */
export const relativeFileUrl: FileUrl = (key) => `/files/${key}`;

export const urlOrNull = (fileUrl: FileUrl, key: string | null): string | null => (key ? fileUrl(key) : null);
