// Kept apart from router.tsx and from `window` so that it is unit-tested under test/web.

/**
 * A `next` parameter made safe to follow: only a path on this origin ("/accept-invitation?token=…"),
 * never "//evil.example", "https://evil.example" or "/.//evil.example" (whose dot segment resolves to
 * the path "//evil.example", which a browser reads as another host), which would turn log-in into an
 * open redirect. The path returned is the resolved one, and it must resolve to this origin again.
 */
export function sameOriginPath(next: string | null, origin: string): string | null {
  if (!next?.startsWith("/")) return null;
  try {
    const url = new URL(next, origin);
    const path = url.pathname + url.search + url.hash;
    if (url.origin !== origin || path.startsWith("//") || new URL(path, origin).origin !== origin)
      return null;
    return path;
  } catch {
    return null;
  }
}
