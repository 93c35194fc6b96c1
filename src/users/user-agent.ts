export type Device = { browser: string; os: string; type: "desktop" | "mobile" | "tablet" | "unknown" };

// Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
const BROWSERS: Array<[RegExp, string]> = [
  [/Edg(?:e|A|iOS)?\/(\d+)/, "Edge"],
  [/(?:OPR|Opera)\/(\d+)/, "Opera"],
  [/Firefox\/(\d+)/, "Firefox"],
  [/FxiOS\/(\d+)/, "Firefox"],
  [/CriOS\/(\d+)/, "Chrome"],
  [/HeadlessChrome\/(\d+)/, "Headless Chrome"],
  [/Chrom(?:e|ium)\/(\d+)/, "Chrome"],
  [/Version\/(\d+)[\d.]* (?:Mobile\/\S+ )?Safari/, "Safari"],
  [/curl\/(\d+)/, "curl"],
];

const SYSTEMS: Array<[RegExp, string]> = [
  [/Windows NT/, "Windows"],
  [/iPhone|iPad|iPod/, "iOS"],
  [/Android/, "Android"],
  [/CrOS/, "ChromeOS"],
  [/Mac OS X|Macintosh/, "macOS"],
  [/Linux/, "Linux"],
];

/** Enough of the user agent to let a person recognise their own device in a session list. */
export function parseUserAgent(userAgent: string | null): Device {
  if (!userAgent) return { browser: "Unknown", os: "Unknown", type: "unknown" };
  let browser = "Unknown";
  for (const [pattern, name] of BROWSERS) {
    const match = pattern.exec(userAgent);
    if (match) {
      browser = `${name} ${match[1]}`;
      break;
    }
  }
  const os = SYSTEMS.find(([pattern]) => pattern.test(userAgent))?.[1] ?? "Unknown";
  const type = /iPad|Tablet/.test(userAgent)
    ? "tablet"
    : /Mobi|iPhone|Android/.test(userAgent)
      ? "mobile"
      : os === "Unknown"
        ? "unknown"
        : "desktop";
  return { browser, os, type };
}
