// Loaded with React.lazy (overview-tab.tsx): recharts stays out of the main bundle.
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { bucketLabel, type OverviewPoint } from "../../overview";

export type ChartSeries = { key: "succeeded" | "failed" | "value"; name: string; color: string };

/**
 * Bars per day (or month), in the theme's colours. Hidden from assistive technology: the summary
 * sentence and the "Show as a table" table beside it say the same.
 */
export default function OverviewChart({
  points,
  bucket,
  series,
  testId,
}: {
  points: readonly OverviewPoint[];
  bucket: "day" | "month";
  series: readonly ChartSeries[];
  testId: string;
}) {
  return (
    <div className="overview-chart" aria-hidden="true" data-testid={testId}>
      <ResponsiveContainer width="100%" height={220}>
        <BarChart
          data={[...points]}
          accessibilityLayer={false}
          margin={{ top: 8, right: 8, bottom: 0, left: 0 }}
        >
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis
            dataKey="date"
            tickFormatter={(date: string) => bucketLabel(date, bucket)}
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
            labelFormatter={(date) => bucketLabel(String(date), bucket)}
            contentStyle={{
              background: "var(--surface)",
              border: "1px solid var(--border)",
              borderRadius: 6,
              color: "var(--text)",
            }}
          />
          {series.length > 1 ? <Legend wrapperStyle={{ fontSize: 13 }} /> : null}
          {series.map((s) => (
            <Bar
              key={s.key}
              dataKey={s.key}
              name={s.name}
              stackId="one"
              fill={s.color}
              isAnimationActive={false}
            />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
