import { lazy, Suspense, useEffect, useState } from "react";
import { auditSentence, relativeTime } from "../../audit-sentences";
import { SelectField } from "../../components/field";
import { FormAlert } from "../../components/form-alert";
import { LoadingBlock, Skeleton } from "../../components/skeleton";
import { formatCents } from "../../money";
import {
  type AccountOverview,
  bucketLabel,
  METRIC_DESCRIPTIONS,
  METRIC_LABELS,
  metricSummary,
  mfaLine,
  RANGE_LABELS,
  seatsLine,
  signInSummary,
} from "../../overview";
import { Link } from "../../router";
import { CHART_METRICS, type ChartMetric, DATE_RANGES, type DateRange } from "../../types";
import { useFormatDate } from "../../use-format-date";
import { usePreferences } from "../../use-preferences";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";
import type { ChartSeries } from "./overview-charts";
import type { SettingsPageProps } from "./pages";

const OverviewChart = lazy(() => import("./overview-charts"));

const SIGN_IN_SERIES: readonly ChartSeries[] = [
  { key: "succeeded", name: "Succeeded", color: "var(--success)" },
  { key: "failed", name: "Failed", color: "var(--danger)" },
];

const memberPath = (userId: string) => `/settings/members/${encodeURIComponent(userId)}`;

/**
 * The account at a glance (members:read): the landing page after log-in for those who may see it. The
 * range and metric start at the user's preferences (default date range, default chart metric).
 */
export function OverviewTab(_props: SettingsPageProps) {
  const base = useAccountPath();
  const { preferences, loadError } = usePreferences();
  const [chosen, setChosen] = useState<{ range?: DateRange; metric?: ChartMetric }>({});
  const range = chosen.range ?? preferences?.default_date_range ?? "last_30_days";
  const metric = chosen.metric ?? preferences?.default_chart_metric ?? "active_users";
  // Waits for the preferences (their defaults are the first question), unless they cannot be read.
  const ready = preferences !== null || loadError !== null;
  const overview = useResource<AccountOverview>(
    ready ? `${base}/overview?range=${range}&metric=${metric}` : null,
  );
  // While another range or metric loads, the previous answer stays on screen (no jump to a skeleton).
  const [previous, setPrevious] = useState<AccountOverview | undefined>(undefined);
  useEffect(() => {
    if (overview.data) setPrevious(overview.data);
  }, [overview.data]);
  const data = overview.data ?? previous;

  return (
    <div className="stack overview" data-testid="overview" aria-busy={overview.loading}>
      <form
        className="overview-controls"
        aria-label="Overview period and metric"
        onSubmit={(e) => e.preventDefault()}
      >
        <SelectField
          label="Date range"
          name="overview_range"
          value={range}
          onValueChange={(value) => setChosen((c) => ({ ...c, range: value as DateRange }))}
          options={DATE_RANGES.map((value) => ({ value, label: RANGE_LABELS[value] }))}
        />
        <SelectField
          label="Chart metric"
          name="overview_metric"
          value={metric}
          onValueChange={(value) => setChosen((c) => ({ ...c, metric: value as ChartMetric }))}
          options={CHART_METRICS.map((value) => ({ value, label: METRIC_LABELS[value] }))}
        />
      </form>
      {overview.error ? (
        <FormAlert testId="overview-error">The overview could not be loaded: {overview.error}</FormAlert>
      ) : null}
      {data ? (
        <>
          <div className="overview-grid">
            <MembersCard data={data} />
            <MfaCard data={data} />
          </div>
          <SignInsCard data={data} />
          <MetricCard data={data} />
          <div className="overview-grid">
            <InactiveCard data={data} />
            {data.billing ? <BillingCard billing={data.billing} /> : null}
          </div>
          {data.recent_admin_activity ? <ActivityCard events={data.recent_admin_activity} /> : null}
        </>
      ) : overview.loading || !ready ? (
        <LoadingBlock label="Loading the overview…" lines={6} />
      ) : null}
    </div>
  );
}

function MembersCard({ data }: { data: AccountOverview }) {
  const { members } = data;
  const rows = [
    { key: "active", label: "Active", count: members.active },
    { key: "suspended", label: "Suspended", count: members.suspended },
    { key: "deactivated", label: "Login turned off", count: members.deactivated },
    { key: "pending", label: "Invited, not yet joined", count: members.pending },
  ];
  return (
    <section className="card" aria-labelledby="overview-members-heading" data-testid="overview-members">
      <div className="card-header">
        <h2 id="overview-members-heading">Members</h2>
        <Link to="/settings/members">All members</Link>
      </div>
      <p
        className="overview-figure"
        data-testid="overview-seats"
        data-used={members.seats_used}
        data-limit={members.seat_limit ?? ""}
      >
        {seatsLine(members)}
      </p>
      {members.seat_limit !== null ? (
        <meter
          className="seat-bar"
          min={0}
          max={members.seat_limit}
          value={Math.min(members.seats_used, members.seat_limit)}
          aria-label="Seats used"
        />
      ) : null}
      <dl className="overview-counts">
        {rows.map((row) => (
          <div key={row.key} data-testid={`overview-count-${row.key}`} data-count={row.count}>
            <dt>{row.label}</dt>
            <dd>{row.count}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function MfaCard({ data }: { data: AccountOverview }) {
  const { mfa } = data;
  const more = mfa.missing_required_count - mfa.missing_required.length;
  return (
    <section className="card" aria-labelledby="overview-mfa-heading" data-testid="overview-mfa">
      <div className="card-header">
        <h2 id="overview-mfa-heading">Two-step verification</h2>
      </div>
      <p className="overview-figure" data-testid="overview-mfa-percent" data-percent={mfa.percent ?? ""}>
        {mfa.percent === null ? "—" : `${mfa.percent}%`}
      </p>
      <p className="muted">{mfaLine(mfa)} use a second factor.</p>
      {mfa.missing_required_count > 0 ? (
        <>
          <h3 className="overview-subheading">Required but not set up ({mfa.missing_required_count})</h3>
          <ul className="overview-people" data-testid="overview-mfa-missing">
            {mfa.missing_required.map((m) => (
              <li key={m.user_id} data-user-id={m.user_id}>
                <Link to={memberPath(m.user_id)}>{m.name || m.email}</Link>{" "}
                <span className="muted">{m.email}</span>
              </li>
            ))}
          </ul>
          {more > 0 ? <p className="muted">and {more} more.</p> : null}
        </>
      ) : (
        <p data-testid="overview-mfa-complete">Everyone who must use a second factor has one.</p>
      )}
    </section>
  );
}

function SeriesTable({
  data,
  caption,
  columns,
  testId,
}: {
  data: AccountOverview;
  caption: string;
  columns: ReadonlyArray<{ key: "succeeded" | "failed" | "value"; label: string }>;
  testId: string;
}) {
  return (
    <details className="usage-table-details">
      <summary>Show as a table</summary>
      <div className="table-scroll">
        <table className="table usage-table" data-testid={testId}>
          <caption className="visually-hidden">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{data.bucket === "month" ? "Month" : "Day"}</th>
              {columns.map((c) => (
                <th key={c.key} scope="col">
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.series.map((point) => (
              <tr key={point.date} data-date={point.date}>
                <th scope="row">{bucketLabel(point.date, data.bucket)}</th>
                {columns.map((c) => (
                  <td key={c.key} data-column={c.key}>
                    {point[c.key]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}

function SignInsCard({ data }: { data: AccountOverview }) {
  return (
    <section className="card" aria-labelledby="overview-sign-ins-heading" data-testid="overview-sign-ins">
      <div className="card-header">
        <h2 id="overview-sign-ins-heading">Sign-ins</h2>
      </div>
      <p
        data-testid="overview-sign-ins-summary"
        data-succeeded={data.totals.succeeded}
        data-failed={data.totals.failed}
      >
        {signInSummary(data)}
      </p>
      <Suspense fallback={<Skeleton height={220} />}>
        <OverviewChart
          points={data.series}
          bucket={data.bucket}
          series={SIGN_IN_SERIES}
          testId="overview-sign-ins-chart"
        />
      </Suspense>
      <SeriesTable
        data={data}
        caption="Sign-ins by day: succeeded and failed"
        columns={[
          { key: "succeeded", label: "Succeeded" },
          { key: "failed", label: "Failed" },
        ]}
        testId="overview-sign-ins-table"
      />
    </section>
  );
}

function MetricCard({ data }: { data: AccountOverview }) {
  const label = METRIC_LABELS[data.metric];
  return (
    <section
      className="card"
      aria-labelledby="overview-metric-heading"
      data-testid="overview-metric"
      data-metric={data.metric}
      data-range={data.range}
    >
      <div className="card-header">
        <h2 id="overview-metric-heading" data-testid="overview-metric-heading">
          {label}
        </h2>
      </div>
      <p className="muted">{METRIC_DESCRIPTIONS[data.metric]}.</p>
      <p data-testid="overview-metric-summary" data-total={data.totals.value}>
        {metricSummary(data)}
      </p>
      <Suspense fallback={<Skeleton height={220} />}>
        <OverviewChart
          points={data.series}
          bucket={data.bucket}
          series={[{ key: "value", name: label, color: "var(--accent)" }]}
          testId="overview-metric-chart"
        />
      </Suspense>
      <SeriesTable
        data={data}
        caption={`${label} by ${data.bucket}`}
        columns={[{ key: "value", label }]}
        testId="overview-metric-table"
      />
    </section>
  );
}

function InactiveCard({ data }: { data: AccountOverview }) {
  const formatDate = useFormatDate();
  const { inactive_members: inactive } = data;
  const more = inactive.count - inactive.data.length;
  return (
    <section
      className="card"
      aria-labelledby="overview-inactive-heading"
      data-testid="overview-inactive"
      data-count={inactive.count}
    >
      <div className="card-header">
        <h2 id="overview-inactive-heading">No sign-in for 30 days</h2>
      </div>
      {inactive.count === 0 ? (
        <p>Every active member signed in within the last 30 days.</p>
      ) : (
        <>
          <p>
            {inactive.count} active {inactive.count === 1 ? "member has" : "members have"} not signed in for
            30 days or more.
          </p>
          <ul className="overview-people">
            {inactive.data.map((m) => (
              <li key={m.user_id} data-testid="overview-inactive-member" data-email={m.email}>
                <Link to={memberPath(m.user_id)}>{m.name || m.email}</Link>{" "}
                <span className="muted">
                  {m.last_login_at ? `last signed in ${formatDate(m.last_login_at)}` : "never signed in"}
                </span>
              </li>
            ))}
          </ul>
          {more > 0 ? <p className="muted">and {more} more.</p> : null}
        </>
      )}
    </section>
  );
}

function BillingCard({ billing }: { billing: NonNullable<AccountOverview["billing"]> }) {
  const formatDate = useFormatDate();
  return (
    <section className="card" aria-labelledby="overview-billing-heading" data-testid="overview-billing">
      <div className="card-header">
        <h2 id="overview-billing-heading">Plan and next bill</h2>
        <Link to="/settings/billing">Billing</Link>
      </div>
      <dl className="overview-counts">
        <div>
          <dt>Plan</dt>
          <dd data-testid="overview-plan">
            {billing.plan_name}
            {billing.interval ? `, billed ${billing.interval === "year" ? "yearly" : "monthly"}` : ""}
          </dd>
        </div>
        <div>
          <dt>Next bill</dt>
          <dd data-testid="overview-next-bill">
            {billing.next_billing_date && billing.estimated_next_amount !== null
              ? `${formatCents(billing.estimated_next_amount, billing.currency)} on ${formatDate(billing.next_billing_date)}`
              : "None scheduled"}
          </dd>
        </div>
      </dl>
    </section>
  );
}

function ActivityCard({ events }: { events: NonNullable<AccountOverview["recent_admin_activity"]> }) {
  const formatDate = useFormatDate();
  return (
    <section className="card" aria-labelledby="overview-activity-heading" data-testid="overview-activity">
      <div className="card-header">
        <h2 id="overview-activity-heading">Recent admin activity</h2>
        <Link to="/settings/audit-log">Audit log</Link>
      </div>
      {events.length === 0 ? (
        <p>No administrative changes yet.</p>
      ) : (
        <ul className="overview-activity">
          {events.map((event) => (
            <li key={event.id} data-testid="overview-activity-event" data-action={event.action}>
              <span>{auditSentence(event)}</span>{" "}
              <time className="muted" dateTime={event.created_at} title={formatDate(event.created_at)}>
                {relativeTime(event.created_at)}
              </time>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
