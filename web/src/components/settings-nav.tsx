import { type KeyboardEvent, type MouseEvent, type ReactNode, useEffect, useId, useRef } from "react";
import { Link } from "../router";
import type { SettingsNavGroup, SettingsPageKey } from "../settings-nav";
import { Skeleton } from "./skeleton";

type NavProps = {
  groups: SettingsNavGroup[];
  current: SettingsPageKey;
  /** The account's pages are not known yet (permissions loading): placeholders stand in for them. */
  pending: boolean;
  /** A link was followed (the drawer closes, even on the page already open). */
  onNavigate?: () => void;
};

/** The settings sections, grouped: the sidebar on wide screens, the drawer's content on phones. */
export function SettingsNav({ groups, current, pending, onNavigate }: NavProps) {
  const baseId = useId();
  return (
    <nav className="settings-nav" aria-label="Settings sections">
      {groups.map((group) => (
        <div className="nav-group" key={group.key}>
          <p className="nav-group-label" id={`${baseId}-${group.key}`}>
            {group.label}
          </p>
          <ul aria-labelledby={`${baseId}-${group.key}`}>
            {group.pages.map((page) => (
              <li key={page.key}>
                <Link
                  to={page.path}
                  className="nav-link"
                  aria-current={page.key === current ? "page" : undefined}
                  onClick={onNavigate}
                  data-testid={`nav-${page.key}`}
                >
                  {page.label}
                </Link>
              </li>
            ))}
          </ul>
        </div>
      ))}
      {pending ? (
        <div className="nav-group" role="status" data-testid="nav-pending">
          <span className="visually-hidden">Loading the account's pages…</span>
          <Skeleton width="40%" className="nav-skeleton-label" />
          {[70, 55, 60, 75].map((width) => (
            <Skeleton key={width} width={`${width}%`} height="1.1rem" className="nav-skeleton-link" />
          ))}
        </div>
      ) : null}
    </nav>
  );
}

/**
 * The sidebar as a drawer for phones: a modal <dialog>, so focus stays inside it and Escape closes it
 * (the browser does both), and focus goes back to the menu button afterwards.
 */
export function NavDrawer({
  open,
  onClose,
  children,
}: {
  open: boolean;
  onClose: () => void;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      dialog.showModal();
      // Start at the page the user is on, not at the close button.
      dialog.querySelector<HTMLElement>('[aria-current="page"]')?.focus();
    } else if (!open && dialog.open) dialog.close();
  }, [open]);

  // The drawer is for narrow screens: turning the phone or widening the window puts the sidebar back.
  useEffect(() => {
    if (!open) return;
    const wide = window.matchMedia("(min-width: 769px)");
    const onChange = () => {
      if (wide.matches) onClose();
    };
    wide.addEventListener("change", onChange);
    return () => wide.removeEventListener("change", onChange);
  }, [open, onClose]);

  function onBackdropClick(event: MouseEvent<HTMLDialogElement>) {
    if (event.target === event.currentTarget) onClose();
  }

  // The page behind is inert, but Tab past the last link would leave for the browser's own UI: wrap.
  function onKeyDown(event: KeyboardEvent<HTMLDialogElement>) {
    if (event.key !== "Tab") return;
    const focusable = [
      ...event.currentTarget.querySelectorAll<HTMLElement>("a[href], button:not([disabled])"),
    ];
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (!first || !last) return;
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first.focus();
    }
  }

  return (
    <dialog
      ref={ref}
      className="nav-drawer"
      aria-label="Settings menu"
      onClose={onClose}
      onClick={onBackdropClick}
      onKeyDown={onKeyDown}
      data-testid="nav-drawer"
    >
      <div className="nav-drawer-panel">
        <div className="nav-drawer-header">
          <span className="nav-drawer-title">Settings</span>
          <button
            type="button"
            className="button button-ghost button-small"
            onClick={onClose}
            aria-label="Close settings menu"
            data-testid="nav-close"
          >
            <span aria-hidden="true">✕</span>
          </button>
        </div>
        {open ? children : null}
      </div>
    </dialog>
  );
}
