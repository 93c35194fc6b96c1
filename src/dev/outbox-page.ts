import type { QueuedMail } from "../mail/mail-queue.repository.js";

/** Attribute- and text-safe: every character that could end a text run or an attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}
const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Whether a GET asked for a page rather than data: `text/html` named with a weight above
 * `application/json`'s. Browsers send `text/html,…,*\/*;q=0.8`; curl, fetch and the tests send `*\/*`
 * or nothing, and keep getting JSON.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  const weight = (type: string) => {
    for (const part of accept.split(",")) {
      const [mediaType = "", ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
      if (mediaType !== type) continue;
      const q = params.find((param) => param.startsWith("q="));
      const value = q ? Number(q.slice(2)) : 1;
      return Number.isFinite(value) ? value : 0;
    }
    return -1;
  };
  const html = weight("text/html");
  return html > 0 && html > weight("application/json");
}

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

/** Plain text with its web addresses as links; everything else escaped. */
function linkify(text: string): string {
  let out = "";
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const url = match[0].replace(/[.,;:!?)]+$/, "");
    const start = match.index ?? 0;
    out += escapeHtml(text.slice(last, start));
    out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = start + url.length;
  }
  return out + escapeHtml(text.slice(last));
}

/**
 * The mail's HTML as the frame's document. The frame is sandboxed without scripts or same origin, so
 * nothing in a mail runs or reaches this page; links open in a new tab (`allow-popups`).
 */
function frameDocument(html: string): string {
  return `<!doctype html><base target="_blank">${html.replace(/^\s*<!doctype[^>]*>/i, "")}`;
}

function mailArticle(mail: QueuedMail): string {
  const erased = !mail.text && !mail.html;
  const body = erased
    ? `<p class="muted">The body was dropped after delivery over SMTP (it may hold live links).</p>`
    : `${
        mail.html
          ? `<details open><summary>HTML</summary><iframe title="${escapeHtml(`HTML of “${mail.subject}”`)}" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" srcdoc="${escapeHtml(frameDocument(mail.html))}"></iframe></details>`
          : ""
      }<details open><summary>Text</summary><pre>${linkify(mail.text)}</pre></details>`;
  return `<article>
<h2>${escapeHtml(mail.subject)}</h2>
<p class="meta">To <strong>${escapeHtml(mail.to)}</strong> · <span class="status status-${escapeHtml(mail.status)}">${escapeHtml(mail.status)}</span> · <time datetime="${escapeHtml(mail.createdAt)}">${escapeHtml(mail.createdAt)}</time> · <code>${escapeHtml(mail.id)}</code></p>
${body}
</article>`;
}

const STYLE = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { margin: 0 auto; max-width: 960px; padding: 24px 16px 48px; }
h1 { font-size: 1.4rem; margin: 0 0 4px; }
h2 { font-size: 1.1rem; margin: 0 0 4px; overflow-wrap: anywhere; }
form { display: flex; gap: 8px; flex-wrap: wrap; align-items: end; margin: 16px 0 24px; }
label { display: grid; gap: 2px; font-size: 0.9rem; }
input { font: inherit; padding: 6px 8px; min-width: 260px; }
button, .reset { font: inherit; padding: 6px 12px; }
article { border: 1px solid color-mix(in srgb, currentColor 20%, transparent); border-radius: 10px; padding: 16px; margin-bottom: 16px; }
.meta, .muted { color: color-mix(in srgb, currentColor 65%, transparent); font-size: 0.9rem; margin: 0 0 8px; overflow-wrap: anywhere; }
summary { cursor: pointer; font-weight: 600; margin: 8px 0; }
iframe { display: block; width: 100%; height: 360px; resize: vertical; overflow: auto; border: 1px solid color-mix(in srgb, currentColor 20%, transparent); border-radius: 6px; background: #fff; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; padding: 12px; border-radius: 6px; background: color-mix(in srgb, currentColor 6%, transparent); }
.status { font-weight: 600; }
.status-failed { color: light-dark(#b42318, #ff9289); }
.status-sent { color: light-dark(#0f6b3a, #74d6a0); }
`;

/** The development outbox (GET /dev/mail) for a person: newest first, each mail rendered and as text. */
export function renderOutboxPage(mails: readonly QueuedMail[], to: string | undefined): string {
  const heading = to ? `Mail to ${to}` : "All mail";
  const list =
    mails.length === 0
      ? `<p class="muted">No mail${to ? ` to ${escapeHtml(to)}` : ""} yet.</p>`
      : mails.map(mailArticle).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(heading)} · Gatehouse outbox</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Development outbox</h1>
<p class="muted">The mail queue, newest first (at most 200). Nothing here leaves the machine unless SMTP_URL is set. The same list as JSON: <code>curl ${escapeHtml("/dev/mail")}</code>.</p>
<form method="get" action="/dev/mail">
<label>Recipient<input type="email" name="to" value="${escapeHtml(to ?? "")}" placeholder="someone@example.com"></label>
<button type="submit">Show</button>${to ? ` <a class="reset" href="/dev/mail">Show all</a>` : ""}
</form>
${mails.length > 0 ? `<p class="muted">${escapeHtml(heading)}: ${mails.length} mail${mails.length === 1 ? "" : "s"}.</p>` : ""}
${list}
</body>
</html>`;
}
