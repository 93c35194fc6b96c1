import { BrandMark } from "./auth-layout";
import { Skeleton, SkeletonText } from "./skeleton";

/**
 * What the app shows while it asks who is signed in: the frame of the page that is coming (the
 * settings shell, or the signed-out card), in grey, so nothing jumps when the answer arrives.
 */
/** The sidebar's groups (Personal, Account) as link-shaped bars of varied widths (also their keys). */
const NAV_WIDTHS = [
  [60, 72, 66],
  [64, 52, 58, 70, 76, 62],
];

export function ShellSkeleton() {
  return (
    <div className="app-shell" role="status" data-testid="app-loading">
      <span className="visually-hidden">Loading Gatehouse…</span>
      <div className="app-header" aria-hidden="true">
        <div className="app-header-inner">
          <span className="brand">
            <BrandMark /> <span className="brand-name">Gatehouse</span>
          </span>
          <Skeleton width="9rem" height="2rem" className="skeleton-switcher" />
          <Skeleton width="2rem" height="2rem" className="skeleton-avatar" />
        </div>
      </div>
      <div className="shell-body" aria-hidden="true">
        <div className="shell-sidebar">
          <div className="settings-nav">
            {NAV_WIDTHS.map((widths) => (
              <div className="nav-group" key={widths.join()}>
                <Skeleton width="40%" className="nav-skeleton-label" />
                {widths.map((width) => (
                  <Skeleton key={width} width={`${width}%`} height="1.1rem" className="nav-skeleton-link" />
                ))}
              </div>
            ))}
          </div>
        </div>
        <div className="shell-main">
          <div className="shell-content shell-content-narrow">
            <Skeleton width="12rem" height="1.8rem" className="skeleton-heading" />
            <div className="card skeleton-card">
              <Skeleton width="30%" height="1.2rem" className="skeleton-heading" />
              <SkeletonText lines={4} />
            </div>
          </div>
        </div>
      </div>
    </div>
  );
}

export function AuthSkeleton() {
  return (
    <div className="auth-page" role="status" data-testid="app-loading">
      <span className="visually-hidden">Loading Gatehouse…</span>
      <span className="brand auth-brand" aria-hidden="true">
        <BrandMark /> Gatehouse
      </span>
      <div className="card auth-card skeleton-card" aria-hidden="true">
        <Skeleton width="50%" height="1.6rem" className="skeleton-heading" />
        <SkeletonText lines={2} />
        <Skeleton height="2.5rem" className="skeleton-field" />
        <Skeleton height="2.5rem" className="skeleton-field" />
        <Skeleton width="40%" height="2.5rem" className="skeleton-field" />
      </div>
    </div>
  );
}
