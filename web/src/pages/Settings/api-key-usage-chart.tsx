// Loaded with React.lazy (api-key-detail.tsx): recharts stays out of the main bundle.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { ApiKeyUsageDay } from "../../types";

const SERIES = [
  { key: "status_2xx", name: "2xx", color: "var(--success)" },
  { key: "status_4xx", name: "4xx", color: "var(--warning)" },
  { key: "status_5xx", name: "5xx", color: "var(--danger)" },
] as const;

const shortDay = (date: string) => date.slice(5);

/**
 * Requests a day, stacked by status class. Hidden from assistive technology: the summary sentence
 * and the "Show as a table" table beside it say the same.
 */
export default function UsageChart({ days }: { days: readonly ApiKeyUsageDay[] }) {
  return (
    <div className="usage-chart" aria-hidden="true" data-testid="api-key-usage-chart">
      <ResponsiveContainer width="100%" height={220}>
        <BarChart
          data={[...days]}
          accessibilityLayer={false}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
        >
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis
            dataKey="date"
            tickFormatter={shortDay}
            tick={{ fill: "var(--text-muted)", fontSize: 12 }}
            stroke="var(--border)"
            minTickGap={16}
          />
          <YAxis
            allowDecimals={false}
            width={40}
            tick={{ fill: "var(--text-muted)", fontSize: 12 }}
            stroke="var(--border)"
          />
          <Tooltip
            cursor={{ fill: "var(--surface-muted)" }}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 6,
              color: "var(--text)",
            }}
          />
          <Legend wrapperStyle={{ fontSize: 13 }} />
          {SERIES.map((series) => (
            <Bar
              key={series.key}
              dataKey={series.key}
              name={series.name}
              stackId="status"
              fill={series.color}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
