import type { ReactNode } from "react";
import { Link } from "../router";
import { usePageTitle } from "../use-page-title";

type Props = { title: string; intro?: ReactNode; children: ReactNode; footer?: ReactNode };

/** Centered single-card frame for the signed-out pages (login, sign-up, resets). */
export function AuthLayout({ title, intro, children, footer }: Props) {
  usePageTitle(title);
  return (
    <div className="auth-page">
      <Link to="/" className="brand auth-brand">
        <BrandMark /> Gatehouse
      </Link>
      <main id="main" className="card auth-card">
        <h1>{title}</h1>
        {intro ? <p className="muted">{intro}</p> : null}
        {children}
      </main>
      {footer ? <div className="auth-footer">{footer}</div> : null}
    </div>
  );
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
