// The header's bell: the unread count, a panel of recent notifications, live updates from the
// notification stream. Loaded in a chunk of its own (app-header.tsx), off the first paint's path.
import { useCallback, useEffect, useId, useRef, useState } from "react";
import { withQuery } from "../api";
import { relativeTime } from "../api-keys";
import { explainError } from "../error-messages";
import { Link, navigate } from "../router";
import { sameOriginPath } from "../same-origin-path";
import { settingsPage } from "../settings-nav";
import type { AppNotification, NotificationsPage } from "../types";
import { useApi } from "../use-api";
import { useFormatDate } from "../use-format-date";
import { badgeText, bellLabel } from "../webhooks";

const LIST_PATH = "/me/notifications";
const STREAM_URL = "/api/v1/me/notifications/stream";
const SHOWN = 10;
/** After the stream is refused (404, 401, a proxy without streaming) it is tried again, ever more slowly. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 5 * 60_000;

type State = {
  items: AppNotification[];
  unread: number;
  status: "loading" | "ready" | "error";
  error: string | null;
};

/** The recent notifications and the unread count, kept current by the stream (or by re-reading). */
function useNotifications() {
  const api = useApi();
  const [state, setState] = useState<State>({ items: [], unread: 0, status: "loading", error: null });

  const load = useCallback(async () => {
    try {
      const page = await api.get<NotificationsPage>(withQuery(LIST_PATH, { limit: SHOWN }));
      setState({ items: page.data, unread: page.unread_count, status: "ready", error: null });
    } catch (error) {
      setState((current) => ({
        ...current,
        status: current.status === "ready" ? "ready" : "error",
        error: explainError(error),
      }));
    }
  }, [api]);

  const arrived = useCallback((notification: AppNotification) => {
    setState((current) => {
      if (current.items.some((item) => item.id === notification.id)) return current;
      return {
        ...current,
        items: [notification, ...current.items].slice(0, SHOWN),
        unread: current.unread + (notification.read_at ? 0 : 1),
      };
    });
  }, []);

  useEffect(() => {
    void load();
    if (typeof EventSource === "undefined") return;
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let delay = FIRST_RETRY_MS;
    let stopped = false;

    const connect = () => {
      if (stopped) return;
      source = new EventSource(STREAM_URL, { withCredentials: true });
      // (Re)connected: what came while the stream was down is read again.
      source.addEventListener("open", () => {
        delay = FIRST_RETRY_MS;
        void load();
      });
      source.addEventListener("notification", (event) => {
        try {
          arrived(JSON.parse((event as MessageEvent<string>).data) as AppNotification);
        } catch {
          // Not a notification: ignore it rather than break the bell.
        }
      });
      source.addEventListener("error", () => {
        // While CONNECTING the browser retries by itself; CLOSED means it gave up (the stream was
        // refused): try again later, and meanwhile the bell shows what the list said.
        if (source?.readyState !== EventSource.CLOSED) return;
        source.close();
        retry = setTimeout(() => {
          void load();
          connect();
        }, delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      });
    };
    connect();

    // Coming back to the tab re-reads the list (a stream may have been cut while it slept).
    const onVisible = () => {
      if (document.visibilityState === "visible") void load();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => {
      stopped = true;
      source?.close();
      clearTimeout(retry);
      document.removeEventListener("visibilitychange", onVisible);
    };
  }, [load, arrived]);

  const markRead = useCallback(
    async (ids: string[] | "all") => {
      const now = new Date().toISOString();
      setState((current) => {
        const items = current.items.map((item) =>
          !item.read_at && (ids === "all" || ids.includes(item.id)) ? { ...item, read_at: now } : item,
        );
        const newlyRead = current.items.filter(
          (item) => !item.read_at && (ids === "all" || ids.includes(item.id)),
        ).length;
        return { ...current, items, unread: ids === "all" ? 0 : Math.max(0, current.unread - newlyRead) };
      });
      try {
        await api.post(`${LIST_PATH}/read`, ids === "all" ? { all: true } : { ids });
      } catch {
        // The server keeps them unread: read its word again.
        void load();
      }
    },
    [api, load],
  );

  return { ...state, markRead, reload: load };
}

/** The bell button with its badge, and the panel it opens. */
export default function NotificationBell() {
  const notifications = useNotifications();
  const formatDate = useFormatDate();
  const [open, setOpen] = useState(false);
  const panelId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const { unread, items } = notifications;

  const close = useCallback((returnFocus: boolean) => {
    setOpen(false);
    if (returnFocus) buttonRef.current?.focus();
  }, []);

  // Escape and a click elsewhere close the panel.
  useEffect(() => {
    if (!open) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") close(true);
    };
    const onPointer = (event: PointerEvent) => {
      const target = event.target as Node;
      if (!panelRef.current?.contains(target) && !buttonRef.current?.contains(target)) close(false);
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onPointer);
    panelRef.current?.focus();
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onPointer);
    };
  }, [open, close]);

  async function follow(notification: AppNotification) {
    close(false);
    if (!notification.read_at) await notifications.markRead([notification.id]);
    if (!notification.link) return;
    const path = sameOriginPath(notification.link, window.location.origin);
    if (path) navigate(path);
    else if (/^https?:\/\//.test(notification.link)) {
      // A link to this origin written in full is followed in the app; any other opens as a page.
      const url = new URL(notification.link);
      if (url.origin === window.location.origin) navigate(url.pathname + url.search + url.hash);
      else window.location.assign(url.href);
    }
  }

  const now = new Date();
  return (
    <div className="notification-bell">
      <button
        ref={buttonRef}
        type="button"
        className="button button-ghost button-small bell-button"
        aria-label={bellLabel(unread)}
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        onClick={() => (open ? close(false) : setOpen(true))}
        data-testid="notification-bell"
        data-unread={unread}
      >
        <BellIcon />
        {unread > 0 ? (
          <span className="bell-badge" aria-hidden="true" data-testid="notification-count">
            {badgeText(unread)}
          </span>
        ) : null}
      </button>
      {open ? (
        <div
          ref={panelRef}
          id={panelId}
          className="notification-panel"
          role="dialog"
          aria-labelledby={`${panelId}-heading`}
          tabIndex={-1}
          data-testid="notification-panel"
        >
          <div className="notification-panel-header">
            <h2 id={`${panelId}-heading`}>Notifications</h2>
            {unread > 0 ? (
              <button
                type="button"
                className="button button-ghost button-small"
                onClick={() => void notifications.markRead("all")}
                data-testid="notification-mark-all"
              >
                Mark all as read
              </button>
            ) : null}
          </div>
          {notifications.status === "error" ? (
            <p className="notification-empty" role="alert" data-testid="notification-error">
              Notifications could not be loaded: {notifications.error}{" "}
              <button type="button" className="link-button" onClick={() => void notifications.reload()}>
                Try again
              </button>
            </p>
          ) : notifications.status === "loading" ? (
            <p className="notification-empty muted" role="status">
              Loading notifications…
            </p>
          ) : items.length === 0 ? (
            <p className="notification-empty muted" data-testid="notification-empty">
              You're all caught up. Notices about your accounts — new members, security changes, invoices —
              show up here.
            </p>
          ) : (
            <ul className="notification-list">
              {items.map((item) => (
                <li key={item.id}>
                  <button
                    type="button"
                    className={`notification-item${item.read_at ? "" : " notification-unread"}`}
                    onClick={() => void follow(item)}
                    data-testid="notification-item"
                    data-notification-id={item.id}
                    data-type={item.type}
                    data-read={item.read_at ? "true" : "false"}
                  >
                    <span className="notification-dot" aria-hidden="true" />
                    <span className="notification-text">
                      <span className="notification-title">
                        {item.read_at ? null : <span className="visually-hidden">Unread: </span>}
                        {item.title}
                      </span>
                      {item.body ? <span className="notification-body">{item.body}</span> : null}
                      <time
                        className="notification-time"
                        dateTime={item.created_at}
                        title={formatDate(item.created_at)}
                      >
                        {relativeTime(item.created_at, now)}
                      </time>
                    </span>
                  </button>
                </li>
              ))}
            </ul>
          )}
          <div className="notification-panel-footer">
            <Link
              to={settingsPage("notifications").path}
              onClick={() => close(false)}
              data-testid="notification-settings-link"
            >
              Notification settings
            </Link>
          </div>
        </div>
      ) : null}
    </div>
  );
}

function BellIcon() {
  return (
    <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path
        d="M6 10a6 6 0 0 1 12 0c0 5 2 6.5 2 6.5H4S6 15 6 10M10 19.5a2 2 0 0 0 4 0"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
        fill="none"
      />
    </svg>
  );
}
