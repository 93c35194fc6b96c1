import { useEffect, useState } from "react";
import { withQuery } from "../../api";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock } from "../../components/skeleton";
import { explainError } from "../../error-messages";
import {
  actionLabel,
  deviceLabel,
  eventRole,
  loginOutcome,
  type MemberLogin,
  mergeEvents,
} from "../../member-detail";
import { Link } from "../../router";
import { settingsPage } from "../../settings-nav";
import type { AuditEvent } from "../../types";
import { useApi } from "../../use-api";
import { useFormatDate } from "../../use-format-date";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";

const SHOWN = 10;

/** Their latest sign-ins and failed attempts in this account (from the audit log). */
export function MemberLoginsCard({ memberPath, version }: { memberPath: string; version: number }) {
  const formatDate = useFormatDate();
  const logins = useResource<{ data: MemberLogin[] }>(`${memberPath}/logins?limit=${SHOWN}`);
  const { reload } = logins;
  const [seen, setSeen] = useState(version);
  useEffect(() => {
    if (version !== seen) {
      setSeen(version);
      reload();
    }
  }, [version, seen, reload]);
  const list = logins.data?.data;

  return (
    <section className="card" aria-labelledby="member-logins-heading" data-testid="member-logins">
      <h2 id="member-logins-heading">Last logins</h2>
      {logins.error ? <FormAlert>{logins.error}</FormAlert> : null}
      {!list ? (
        logins.error ? null : (
          <LoadingBlock label="Loading logins…" table={{ columns: 4, rows: 3 }} />
        )
      ) : list.length === 0 ? (
        <p>No logins to this account yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table responsive-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Result</th>
                <th scope="col">Device</th>
                <th scope="col">IP address</th>
              </tr>
            </thead>
            <tbody>
              {list.map((login) => (
                <tr
                  key={login.id}
                  data-testid="member-login"
                  data-succeeded={login.succeeded ? "true" : "false"}
                >
                  <td data-label="When">{formatDate(login.at)}</td>
                  <td data-label="Result">
                    <span className={`badge ${login.succeeded ? "badge-success" : "badge-danger"}`}>
                      {loginOutcome(login)}
                    </span>
                  </td>
                  <td data-label="Device" title={login.user_agent ?? undefined}>
                    {deviceLabel(login.device)}
                  </td>
                  <td data-label="IP address">{login.ip ?? "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Their recent audit events, as actor or as target, newest first; a link to the whole log. */
export function MemberActivityCard({ userId, version }: { userId: string; version: number }) {
  const api = useApi();
  const base = useAccountPath();
  const formatDate = useFormatDate();
  const [state, setState] = useState<{ events: AuditEvent[] | null; error: string | null }>({
    events: null,
    error: null,
  });

  useEffect(() => {
    void version; // a change on the page re-reads the events
    let cancelled = false;
    const page = (filter: "actor_id" | "target_id") =>
      api.get<{ data: AuditEvent[] }>(withQuery(`${base}/audit-events`, { [filter]: userId, limit: SHOWN }));
    Promise.all([page("actor_id"), page("target_id")]).then(
      ([asActor, asTarget]) => {
        if (!cancelled) setState({ events: mergeEvents(asActor.data, asTarget.data, SHOWN), error: null });
      },
      (error: unknown) => {
        if (!cancelled)
          setState((current) => ({
            ...current,
            error: explainError(error),
          }));
      },
    );
    return () => {
      cancelled = true;
    };
  }, [api, base, userId, version]);

  const auditLink = withQuery(settingsPage("audit-log").path, { actor_id: userId });

  return (
    <section className="card" aria-labelledby="member-activity-heading" data-testid="member-activity">
      <div className="card-header">
        <h2 id="member-activity-heading">Recent activity</h2>
        <Link to={auditLink} data-testid="member-activity-audit-link">
          View in the audit log
        </Link>
      </div>
      {state.error ? <FormAlert>{state.error}</FormAlert> : null}
      {!state.events ? (
        state.error ? null : (
          <LoadingBlock label="Loading activity…" table={{ columns: 3, rows: 3 }} />
        )
      ) : state.events.length === 0 ? (
        <p>Nothing recorded yet.</p>
      ) : (
        <div className="table-scroll">
          <table className="table responsive-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Their part</th>
              </tr>
            </thead>
            <tbody>
              {state.events.map((event) => (
                <tr key={event.id} data-testid="member-event" data-action={event.action}>
                  <td data-label="When">{formatDate(event.created_at)}</td>
                  <td data-label="What">{actionLabel(event.action)}</td>
                  <td data-label="Their part">{eventRole(event, userId)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
