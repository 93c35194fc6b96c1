import type { AccountsRepository } from "../accounts/accounts.repository.js";
import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Effects, type Executor, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import type { MemberRecord, MembersRepository } from "../members/members.repository.js";
import { memberView } from "../members/members.views.js";
import type { TeamRecord, TeamsRepository } from "../teams/teams.repository.js";
import { teamView } from "../teams/teams.views.js";
import { type AccessCache, assertCanAssign, loadAccess, requirePermission } from "./access.js";
import { PERMISSIONS, permissionGroup, ROLE_TEMPLATES } from "./permissions.js";
import type { RoleRecord, RolesRepository } from "./roles.repository.js";
import { roleView } from "./roles.views.js";

export type CatalogEntry = { key: string; description: string; group: string; custom: boolean };
export type RoleInput = { name?: string; description?: string; permissions?: string[]; template?: string };

function roleKeyFrom(name: string): string {
  return (
    name
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, 40) || "role"
  );
}

export function createRolesService(deps: {
  db: Db;
  clock: Clock;
  roles: RolesRepository;
  accounts: AccountsRepository;
  access: AccessCache;
  extraPermissions: ReadonlyArray<{ key: string; description: string }>;
  events: Pick<EventLog, "record">;
  /** Deleting a role moves its members and teams: they are announced as changed. */
  members: Pick<MembersRepository, "find">;
  teams: Pick<TeamsRepository, "find">;
}) {
  const { db, clock, roles, access, events } = deps;

  /** Records `type` with the role as the API shows it, in the change's transaction. */
  async function announce(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    accountId: string,
    type: "role.created" | "role.updated" | "role.deleted",
    role: RoleRecord,
  ) {
    await events.record(trx, effects, actor, { accountId, type, data: roleView(role) });
  }

  async function catalog(accountId?: string): Promise<CatalogEntry[]> {
    const entries: CatalogEntry[] = Object.entries(PERMISSIONS).map(([key, description]) => ({
      key,
      description,
      group: permissionGroup(key),
      custom: false,
    }));
    const seen = new Set(entries.map((e) => e.key));
    const extras = [
      ...deps.extraPermissions,
      ...(accountId ? await roles.accountPermissions(db, accountId) : []),
    ];
    for (const extra of extras) {
      if (seen.has(extra.key)) continue;
      seen.add(extra.key);
      entries.push({ ...extra, group: permissionGroup(extra.key), custom: true });
    }
    return entries;
  }

  async function assertKnown(accountId: string, permissions: readonly string[]) {
    const known = new Set((await catalog(accountId)).map((e) => e.key));
    const errors = permissions
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => !known.has(p))
      .map(({ p, i }) => ({
        path: `permissions.${i}`,
        code: "unknown_permission",
        message: `Unknown permission ${p}`,
      }));
    if (errors.length)
      throw new AppError("validation_failed", errors.map((e) => e.message).join("; "), { errors });
  }

  async function uniqueKey(accountId: string, name: string): Promise<string> {
    const base = roleKeyFrom(name);
    for (let n = 1; ; n++) {
      const key = n === 1 ? base : `${base}_${n}`;
      if (!(await roles.findByKey(db, accountId, key))) return key;
    }
  }

  /** The caller as they are inside the changing transaction (a cached view could be stale). */
  async function freshCaller(trx: Executor, accountId: string, userId: string) {
    return requirePermission(await loadAccess(trx, accountId, userId), "roles:manage");
  }

  return {
    catalog,

    async list(userId: string, accountId: string): Promise<RoleRecord[]> {
      requirePermission(await access.get(db, accountId, userId), "roles:read");
      return roles.list(db, accountId);
    },

    async templates(userId: string, accountId: string) {
      requirePermission(await access.get(db, accountId, userId), "roles:read");
      return ROLE_TEMPLATES;
    },

    async registerPermission(
      actor: Actor & { id: string },
      accountId: string,
      key: string,
      description: string,
    ) {
      requirePermission(await access.get(db, accountId, actor.id), "roles:manage");
      if (key in PERMISSIONS) throw new AppError("conflict", `${key} is a built-in permission`);
      await transact(db, async (trx) => {
        await roles.addAccountPermission(trx, accountId, key, description, clock.now().toISOString());
        await recordAudit(
          trx,
          actor,
          { accountId, action: "permission.registered", targetType: "permission", targetId: key },
          clock.now(),
        );
      });
      return { key, description, group: permissionGroup(key), custom: true };
    },

    async create(actor: Actor & { id: string }, accountId: string, input: RoleInput): Promise<RoleRecord> {
      const caller = requirePermission(await access.get(db, accountId, actor.id), "roles:manage");
      const template = input.template ? ROLE_TEMPLATES.find((t) => t.key === input.template) : undefined;
      if (input.template && !template)
        throw new AppError("validation_failed", `Unknown template ${input.template}`);
      const name = (input.name ?? template?.name ?? "").trim();
      const permissions = [...new Set(input.permissions ?? template?.permissions ?? [])];
      if (!name) {
        throw new AppError("validation_failed", "A role needs a name", {
          errors: [{ path: "name", code: "required", message: "Enter a name" }],
        });
      }
      await assertKnown(accountId, permissions);
      assertCanAssign(caller, [{ key: "", permissions }]);
      const key = await uniqueKey(accountId, name);
      const id = newId("role");
      await transact(db, async (trx, effects) => {
        const now = clock.now().toISOString();
        await deps.accounts.insertRole(
          trx,
          accountId,
          {
            id,
            key,
            name,
            description: (input.description ?? template?.description ?? "").trim(),
            permissions,
            builtin: false,
          },
          now,
        );
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "role.created",
            targetType: "role",
            targetId: id,
            changes: { name, permissions, template: input.template },
          },
          clock.now(),
        );
        await announce(
          trx,
          effects,
          actor,
          accountId,
          "role.created",
          (await roles.find(trx, accountId, id)) as RoleRecord,
        );
      });
      return (await roles.find(db, accountId, id)) as RoleRecord;
    },

    async update(
      actor: Actor & { id: string },
      accountId: string,
      roleId: string,
      input: RoleInput,
    ): Promise<RoleRecord> {
      requirePermission(await access.get(db, accountId, actor.id), "roles:manage");
      const permissions = input.permissions ? [...new Set(input.permissions)] : undefined;
      if (permissions) await assertKnown(accountId, permissions);
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const role = await roles.find(trx, accountId, roleId);
        if (!role) throw notFound("Role");
        if (role.builtin)
          throw new AppError("builtin_role", "Built-in roles cannot be edited; create a custom role instead");
        // Everyone holding the role loses what is dropped and gains what is added.
        if (permissions) assertCanAssign(caller, [role, { key: role.key, permissions }]);
        await roles.update(
          trx,
          accountId,
          roleId,
          { name: input.name?.trim(), description: input.description?.trim(), permissions },
          clock.now().toISOString(),
        );
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "role.updated",
            targetType: "role",
            targetId: roleId,
            changes: { name: input.name, description: input.description, permissions },
          },
          clock.now(),
        );
        const updated = (await roles.find(trx, accountId, roleId)) as RoleRecord;
        await announce(trx, effects, actor, accountId, "role.updated", updated);
      });
      return (await roles.find(db, accountId, roleId)) as RoleRecord;
    },

    async remove(
      actor: Actor & { id: string },
      accountId: string,
      roleId: string,
      moveTo?: string,
    ): Promise<void> {
      requirePermission(await access.get(db, accountId, actor.id), "roles:manage");
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const role = await roles.find(trx, accountId, roleId);
        if (!role) throw notFound("Role");
        if (role.builtin) throw new AppError("builtin_role", "Built-in roles cannot be deleted");
        const inUse = role.memberCount > 0 || (await roles.teamGrantCount(trx, accountId, roleId)) > 0;
        if (inUse) {
          if (!moveTo)
            throw new AppError(
              "role_in_use",
              "Members or teams still have this role: choose a role to move them to (move_to)",
            );
          const target = await roles.find(trx, accountId, moveTo);
          if (!target || target.id === roleId)
            throw new AppError("validation_failed", "move_to must be another role of this account");
          // Its holders lose this role and get the other one.
          assertCanAssign(caller, [role, target]);
          const moved = await roles.reassign(trx, accountId, roleId, target.id, clock.now().toISOString());
          const previous_role = { id: role.id, key: role.key, name: role.name };
          for (const userId of moved.userIds) {
            const member = (await deps.members.find(trx, accountId, userId)) as MemberRecord;
            const data = { ...memberView(member), previous_role };
            await events.record(trx, effects, actor, { accountId, type: "member.role_changed", data });
          }
          for (const teamId of moved.teamIds) {
            const team = (await deps.teams.find(trx, accountId, teamId)) as TeamRecord;
            await events.record(trx, effects, actor, {
              accountId,
              type: "team.updated",
              data: teamView(team),
            });
          }
        }
        await roles.delete(trx, accountId, roleId);
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "role.deleted",
            targetType: "role",
            targetId: roleId,
            changes: { name: role.name, moved_to: moveTo },
          },
          clock.now(),
        );
        // As it was just before (its member count included: those who were moved to move_to).
        await announce(trx, effects, actor, accountId, "role.deleted", role);
      });
    },
  };
}

export type RolesService = ReturnType<typeof createRolesService>;
