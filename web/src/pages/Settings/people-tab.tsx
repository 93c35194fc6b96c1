import { useState } from "react";
import { withQuery } from "../../api";
import { Avatar } from "../../components/avatar";
import { EmailText } from "../../components/email-text";
import { FormAlert } from "../../components/form-alert";
import { LoadMore } from "../../components/load-more";
import { LoadingBlock } from "../../components/skeleton";
import { ToolbarSearch, ToolbarSelect } from "../../components/toolbar";
import {
  type ManagedAccount,
  type ManagedPerson,
  NO_PEOPLE_FILTERS,
  type PeopleFilters,
  type PersonMembership,
  peopleQuery,
  personLabel,
} from "../../people";
import { Link } from "../../router";
import { settingsItemPath } from "../../settings-nav";
import { useDebouncedValue } from "../../use-debounced-value";
import { useFormatDate } from "../../use-format-date";
import { usePagedList } from "../../use-paged-list";
import { useResource } from "../../use-resource";
import { useSessionInfo } from "../../use-session";
import type { SettingsPageProps } from "./pages";
import { PeopleInviteDialog } from "./people-invite-dialog";

const PAGE_SIZE = 50;

/**
 * Settings → People: everyone in the accounts the user administers, one row a person, with the
 * accounts (and role in each) they share with the user; invitations to several accounts at once.
 */
export function PeopleTab(_props: SettingsPageProps) {
  const accounts = useResource<{ data: ManagedAccount[] }>("/me/managed-accounts");
  const [filters, setFilters] = useState<PeopleFilters>(NO_PEOPLE_FILTERS);
  const q = useDebouncedValue(filters.q, 250);
  const people = usePagedList<ManagedPerson>(
    withQuery("/me/managed-members", peopleQuery({ ...filters, q })),
    PAGE_SIZE,
  );
  const [inviting, setInviting] = useState(false);
  const managed = accounts.data?.data ?? [];
  const invitable = managed.filter((account) => account.can_invite);
  const update = (patch: Partial<PeopleFilters>) => setFilters((current) => ({ ...current, ...patch }));

  return (
    <div className="stack">
      <section className="card" aria-labelledby="people-heading">
        <div className="card-header">
          <h2 id="people-heading">People in your accounts</h2>
          {invitable.length > 0 ? (
            <button
              type="button"
              className="button button-small"
              onClick={() => setInviting(true)}
              data-testid="people-invite-open"
            >
              Invite to several accounts
            </button>
          ) : null}
        </div>
        <p className="muted">
          Everyone in the {managed.length === 1 ? "account" : `${managed.length || ""} accounts`} whose
          members you can see. The Accounts column lists only those accounts.
        </p>
        {accounts.error ? <FormAlert>{accounts.error}</FormAlert> : null}
        <PeopleToolbar
          filters={filters}
          accounts={managed}
          onChange={update}
          onClear={() => setFilters(NO_PEOPLE_FILTERS)}
        />
        {people.error ? <FormAlert testId="people-error">{people.error}</FormAlert> : null}
        {people.status === "loading" ? (
          <LoadingBlock label="Loading people…" table={{ columns: 3 }} />
        ) : people.items.length === 0 && people.status === "ready" ? (
          <p className="muted" data-testid="people-empty">
            {filters.account_id || filters.q.trim() || filters.status
              ? "Nobody matches these filters."
              : "There is nobody to show yet."}
          </p>
        ) : (
          <PeopleTable people={people.items} />
        )}
        <LoadMore list={people} />
      </section>
      {inviting ? (
        <PeopleInviteDialog
          accounts={invitable}
          onClose={() => setInviting(false)}
          onInvited={() => people.reload()}
        />
      ) : null}
    </div>
  );
}

function PeopleToolbar({
  filters,
  accounts,
  onChange,
  onClear,
}: {
  filters: PeopleFilters;
  accounts: readonly ManagedAccount[];
  onChange: (patch: Partial<PeopleFilters>) => void;
  onClear: () => void;
}) {
  const filtered = filters.account_id !== "" || filters.q !== "" || filters.status !== "";
  return (
    <search className="toolbar" aria-label="Filter people">
      <ToolbarSearch
        label="Search people"
        value={filters.q}
        onChange={(q) => onChange({ q })}
        testId="people-search"
      />
      <ToolbarSelect
        label="Account"
        name="account_id"
        value={filters.account_id}
        onChange={(account_id) => onChange({ account_id })}
        options={[
          { value: "", label: "All accounts" },
          ...accounts.map((account) => ({ value: account.account_id, label: account.account_name })),
        ]}
        testId="people-account-filter"
      />
      <ToolbarSelect
        label="Status"
        name="status"
        value={filters.status}
        onChange={(status) => onChange({ status: status as PeopleFilters["status"] })}
        options={[
          { value: "", label: "Any status" },
          { value: "active", label: "Active" },
          { value: "suspended", label: "Suspended" },
          { value: "deactivated", label: "Deactivated" },
        ]}
        testId="people-status-filter"
      />
      {filtered ? (
        <button type="button" className="button button-ghost button-small" onClick={onClear}>
          Clear filters
        </button>
      ) : null}
    </search>
  );
}

function PeopleTable({ people }: { people: readonly ManagedPerson[] }) {
  const { account_id: currentAccount, user } = useSessionInfo();
  return (
    <div className="table-scroll">
      <table className="table responsive-table people-table" data-testid="people-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Accounts</th>
          </tr>
        </thead>
        <tbody>
          {people.map((person) => {
            const label = personLabel(person);
            // Their page in the account the session is in; elsewhere it would need an account switch.
            const here = person.accounts.some((membership) => membership.account_id === currentAccount);
            return (
              <tr
                key={person.user_id}
                data-testid="person-row"
                data-email={person.email}
                data-user-id={person.user_id}
              >
                <td data-label="Name" className="cell-primary">
                  <span className="member-identity">
                    <Avatar
                      name={label}
                      url={person.avatar_thumb_url}
                      colourKey={person.user_id}
                      size="small"
                    />
                    <span className="member-name">
                      {here ? (
                        <Link to={settingsItemPath("members", person.user_id)} data-testid="person-link">
                          {label}
                        </Link>
                      ) : (
                        label
                      )}
                      {person.user_id === user.id ? <span className="badge badge-you">You</span> : null}
                    </span>
                  </span>
                </td>
                <td data-label="Email">
                  <EmailText email={person.email} />
                </td>
                <td data-label="Accounts">
                  <PersonAccounts memberships={person.accounts} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function PersonAccounts({ memberships }: { memberships: readonly PersonMembership[] }) {
  const formatDate = useFormatDate();
  return (
    <ul className="person-accounts" data-testid="person-accounts">
      {memberships.map((membership) => (
        <li
          key={membership.account_id}
          data-testid="person-account"
          data-account-id={membership.account_id}
          data-role={membership.role.key}
          title={
            membership.last_login_at
              ? `Last login to ${membership.account_name}: ${formatDate(membership.last_login_at)}`
              : `Never logged in to ${membership.account_name}`
          }
        >
          <span className="person-account-name">{membership.account_name}</span>{" "}
          <span className="badge">{membership.role.name}</span>
          {membership.status === "suspended" ? (
            <>
              {" "}
              <span className="badge badge-danger">Suspended</span>
            </>
          ) : membership.status === "deactivated" ? (
            <>
              {" "}
              <span className="badge">Deactivated</span>
            </>
          ) : null}
        </li>
      ))}
    </ul>
  );
}
