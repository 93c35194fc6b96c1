import { Link } from "../../router";
import { useResource } from "../../use-resource";
import { useAccountPath } from "./account-data";

/**
 * `GET …/seats`: seats used = active + suspended + deactivated members + pending invitations; limit
 * null = none.
 */
export type Seats = {
  plan: "free" | "pro" | "team" | "enterprise";
  limit: number | null;
  used: number;
  active: number;
  suspended: number;
  deactivated: number;
  pending: number;
};

export const PLAN_NAMES: Record<Seats["plan"], string> = {
  free: "Free",
  pro: "Pro",
  team: "Team",
  enterprise: "Enterprise",
};

export const BILLING_PATH = "/settings/billing";

export function useSeats() {
  const base = useAccountPath();
  return useResource<Seats>(`${base}/seats`);
}

/** No seat left for another invitation. */
export function isAtSeatLimit(seats: Seats | undefined): boolean {
  return seats !== undefined && seats.limit !== null && seats.used >= seats.limit;
}

/** "3 of 3 seats used" with a bar; on a plan without a limit only the count. */
export function SeatUsage({ seats }: { seats: Seats | undefined }) {
  if (!seats) return null;
  const { used, limit } = seats;
  const full = limit !== null && used >= limit;
  return (
    <div
      className="seat-usage"
      data-testid="seat-usage"
      data-used={used}
      data-limit={limit ?? ""}
      data-plan={seats.plan}
    >
      {/* Who holds the seats (members by status, pending invitations) is the counts line below it. */}
      <p className="seat-summary">
        <strong>
          {limit === null ? `${used} seat${used === 1 ? "" : "s"} used` : `${used} of ${limit} seats used`}
        </strong>{" "}
        <span className="muted">on the {PLAN_NAMES[seats.plan]} plan</span>
      </p>
      {limit !== null ? (
        <meter
          className="seat-bar"
          aria-label="Seats used"
          min={0}
          max={limit}
          low={Math.max(0, limit - 1)}
          high={limit - 0.5}
          optimum={0}
          value={Math.min(used, limit)}
          data-full={full ? "true" : "false"}
        >
          {used} of {limit} seats used
        </meter>
      ) : null}
    </div>
  );
}

/**
 * Shown instead of the invite button when no seat is left: on Free the way to a paid plan, on a plan
 * with an operator's limit how to free a seat.
 */
export function SeatLimitPrompt({ seats }: { seats: Seats }) {
  const onFree = seats.plan === "free";
  return (
    <div className="seat-limit-prompt" data-testid="seat-limit-prompt" data-plan={seats.plan}>
      <span className="seat-limit-text">
        {onFree
          ? `The Free plan has ${seats.limit} seats, all in use. Upgrade to invite more people, or remove users or revoke invitations.`
          : `All ${seats.limit} seats of your ${PLAN_NAMES[seats.plan]} plan are in use. Remove users or revoke invitations to invite someone.`}
      </span>
      {onFree ? (
        <Link to={BILLING_PATH} className="button button-small" data-testid="upgrade-link">
          Upgrade plan
        </Link>
      ) : (
        <Link to={BILLING_PATH} className="button button-secondary button-small" data-testid="upgrade-link">
          Billing
        </Link>
      )}
    </div>
  );
}
