import type { ReactNode } from "react";
import { Link } from "../router";
import type { PublicBranding } from "../types";
import { usePageTitle } from "../use-page-title";

type Props = {
  title: string;
  intro?: ReactNode;
  children: ReactNode;
  footer?: ReactNode;
  /** An account's branding (the login page for `?account=` or a custom domain): its logo and name on top. */
  brand?: PublicBranding | null;
  /** The account's welcome message (plain text), under the title. */
  welcome?: string | null;
};

/** Centered single-card frame for the signed-out pages (login, sign-up, resets). */
export function AuthLayout({ title, intro, children, footer, brand, welcome }: Props) {
  usePageTitle(title);
  const links = brand ? brandLinks(brand) : [];
  return (
    <div className="auth-page" data-branded={brand ? "true" : undefined}>
      {brand ? (
        <div className="auth-brand auth-brand-account" data-testid="login-brand">
          {brand.logo_url ? (
            <img
              src={brand.logo_url}
              alt={brand.account_name ? `${brand.account_name} logo` : "Logo"}
              className="auth-logo"
              data-testid="login-logo"
            />
          ) : null}
          {brand.account_name ? (
            <span className="auth-account-name" data-testid="login-account-name">
              {brand.account_name}
            </span>
          ) : null}
        </div>
      ) : (
        <Link to="/" className="brand auth-brand">
          <BrandMark /> Gatehouse
        </Link>
      )}
      <main id="main" className="card auth-card">
        <h1>{title}</h1>
        {welcome ? (
          // Plain text: React escapes it, and white-space keeps the admin's line breaks.
          <p className="auth-welcome" data-testid="login-message">
            {welcome}
          </p>
        ) : null}
        {intro ? <p className="muted">{intro}</p> : null}
        {children}
      </main>
      {footer ? <div className="auth-footer">{footer}</div> : null}
      {links.length > 0 ? (
        <nav
          className="auth-links"
          aria-label={`${brand?.account_name ?? "Account"} links`}
          data-testid="login-links"
        >
          <ul>
            {links.map((link) => (
              <li key={link.key}>
                <a href={link.href} rel="noopener noreferrer" data-testid={`login-link-${link.key}`}>
                  {link.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
    </div>
  );
}

/** Only http(s) and mailto links: a stored value is never turned into a script link. */
function safeHref(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

function brandLinks(brand: PublicBranding) {
  const support =
    safeHref(brand.support_url) ?? (brand.support_email ? `mailto:${brand.support_email}` : null);
  return [
    { key: "support", label: "Support", href: support },
    { key: "privacy", label: "Privacy", href: safeHref(brand.privacy_url) },
    { key: "terms", label: "Terms", href: safeHref(brand.terms_url) },
  ].filter((link): link is { key: string; label: string; href: string } => link.href !== null);
}

export function BrandMark() {
  return (
    <svg
      className="brand-mark"
      viewBox="0 0 24 24"
      width="24"
      height="24"
      aria-hidden="true"
      focusable="false"
    >
      <path
        d="M4 21V9l8-6 8 6v12h-5v-7H9v7H4z"
        fill="none"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinejoin="round"
      />
    </svg>
  );
}
