import { type Actor, recordAudit } from "../audit/audit.repository.js";
import { type Db, type Effects, type Executor, transact } from "../db/database.js";
import type { EventLog } from "../events/event-log.js";
import { AppError, notFound } from "../http/errors.js";
import type { Clock } from "../lib/clock.js";
import { newId } from "../lib/ids.js";
import {
  type Access,
  type AccessCache,
  assertCanAssign,
  loadAccess,
  requirePermission,
} from "../roles/access.js";
import type { RolesRepository } from "../roles/roles.repository.js";
import type { TeamRecord, TeamsRepository } from "./teams.repository.js";
import { teamView } from "./teams.views.js";

export type TeamInput = { name?: string; description?: string; roleId?: string | null };
export type TeamDeletion = { reassignMembersTo: string | null; transferResourcesTo: string };

export function createTeamsService(deps: {
  db: Db;
  clock: Clock;
  teams: TeamsRepository;
  roles: RolesRepository;
  access: AccessCache;
  events: Pick<EventLog, "record">;
}) {
  const { db, clock, teams, access, events } = deps;
  const now = () => clock.now().toISOString();

  /** Records `type` with the team as the API shows it (read in `trx` unless given), in the change's transaction. */
  async function announce(
    trx: Executor,
    effects: Effects,
    actor: Actor,
    accountId: string,
    type: "team.created" | "team.updated" | "team.deleted",
    team: string | TeamRecord,
  ) {
    const record = typeof team === "string" ? ((await teams.find(trx, accountId, team)) as TeamRecord) : team;
    await events.record(trx, effects, actor, { accountId, type, data: teamView(record) });
  }

  /** The role a team grants, as the grant rule sees it; 400 when the id names no role of the account. */
  async function grantOf(executor: Executor, accountId: string, roleId: string | null | undefined) {
    if (!roleId) return null;
    const role = await deps.roles.find(executor, accountId, roleId);
    if (!role)
      throw new AppError("validation_failed", "Unknown role", {
        errors: [{ path: "role_id", code: "not_found", message: "No such role" }],
      });
    return role;
  }

  /** The caller as they are inside the changing transaction (a cached view could be stale). */
  async function freshCaller(trx: Executor, accountId: string, userId: string): Promise<Access> {
    return requirePermission(await loadAccess(trx, accountId, userId), "teams:manage");
  }

  async function checkName(executor: Executor, accountId: string, name: string, exceptId?: string) {
    if (await teams.nameTaken(executor, accountId, name, exceptId)) {
      throw new AppError("conflict", "A team with this name exists", {
        errors: [{ path: "name", code: "taken", message: "A team with this name exists" }],
      });
    }
  }

  return {
    async list(userId: string, accountId: string) {
      requirePermission(await access.get(db, accountId, userId), "teams:read");
      return teams.list(db, accountId);
    },
    async get(userId: string, accountId: string, teamId: string) {
      requirePermission(await access.get(db, accountId, userId), "teams:read");
      const team = await teams.find(db, accountId, teamId);
      if (!team) throw notFound("Team");
      return team;
    },
    async create(actor: Actor & { id: string }, accountId: string, input: TeamInput): Promise<TeamRecord> {
      requirePermission(await access.get(db, accountId, actor.id), "teams:manage");
      const id = newId("team");
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const name = (input.name ?? "").trim();
        await checkName(trx, accountId, name);
        assertCanAssign(caller, [await grantOf(trx, accountId, input.roleId)]);
        await teams.insert(trx, accountId, {
          id,
          name,
          description: input.description?.trim() ?? "",
          roleId: input.roleId ?? null,
          now: now(),
        });
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "team.created",
            targetType: "team",
            targetId: id,
            changes: { name, role_id: input.roleId ?? null },
          },
          clock.now(),
        );
        await announce(trx, effects, actor, accountId, "team.created", id);
      });
      return (await teams.find(db, accountId, id)) as TeamRecord;
    },
    async update(
      actor: Actor & { id: string },
      accountId: string,
      teamId: string,
      input: TeamInput,
    ): Promise<TeamRecord> {
      requirePermission(await access.get(db, accountId, actor.id), "teams:manage");
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const team = await teams.find(trx, accountId, teamId);
        if (!team) throw notFound("Team");
        if (input.name !== undefined) await checkName(trx, accountId, input.name.trim(), teamId);
        if (input.roleId !== undefined && input.roleId !== (team.role?.id ?? null)) {
          // The team's members lose the old role and gain the new one.
          assertCanAssign(caller, [
            await grantOf(trx, accountId, input.roleId),
            await grantOf(trx, accountId, team.role?.id),
          ]);
        }
        await teams.update(
          trx,
          accountId,
          teamId,
          {
            ...(input.name !== undefined ? { name: input.name.trim() } : {}),
            ...(input.description !== undefined ? { description: input.description.trim() } : {}),
            ...(input.roleId !== undefined ? { roleId: input.roleId } : {}),
          },
          now(),
        );
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          { accountId, action: "team.updated", targetType: "team", targetId: teamId, changes: { ...input } },
          clock.now(),
        );
        await announce(trx, effects, actor, accountId, "team.updated", teamId);
      });
      return (await teams.find(db, accountId, teamId)) as TeamRecord;
    },
    async setMembers(
      actor: Actor & { id: string },
      accountId: string,
      teamId: string,
      userIds: string[],
    ): Promise<TeamRecord> {
      requirePermission(await access.get(db, accountId, actor.id), "teams:manage");
      const unique = [...new Set(userIds)];
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const team = await teams.find(trx, accountId, teamId);
        if (!team) throw notFound("Team");
        const added = unique.filter((u) => !team.memberIds.includes(u));
        const removed = team.memberIds.filter((u) => !unique.includes(u));
        // Joining gives the team's role, leaving takes it away.
        if (added.length || removed.length)
          assertCanAssign(caller, [await grantOf(trx, accountId, team.role?.id)]);
        const members = await teams.activeMemberIds(trx, accountId, unique);
        const strangers = unique.filter((id) => !members.has(id));
        if (strangers.length) {
          throw new AppError("validation_failed", "Only members of this account can join its teams", {
            errors: strangers.map((id) => ({
              path: `user_ids.${unique.indexOf(id)}`,
              code: "not_member",
              message: `${id} is not a member`,
            })),
          });
        }
        await teams.setMembers(trx, accountId, teamId, unique, now());
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "team.members_set",
            targetType: "team",
            targetId: teamId,
            changes: { added, removed },
          },
          clock.now(),
        );
        // Who is in a team is part of the team: a membership change is an update of it.
        if (added.length || removed.length)
          await announce(trx, effects, actor, accountId, "team.updated", teamId);
      });
      return (await teams.find(db, accountId, teamId)) as TeamRecord;
    },
    async remove(actor: Actor & { id: string }, accountId: string, teamId: string, choice: TeamDeletion) {
      requirePermission(await access.get(db, accountId, actor.id), "teams:manage");
      await transact(db, async (trx, effects) => {
        const caller = await freshCaller(trx, accountId, actor.id);
        const team = await teams.find(trx, accountId, teamId);
        if (!team) throw notFound("Team");
        for (const [path, target] of [
          ["reassign_members_to", choice.reassignMembersTo],
          [
            "transfer_resources_to",
            choice.transferResourcesTo === "account" ? null : choice.transferResourcesTo,
          ],
        ] as const) {
          if (target === null) continue;
          if (target === teamId || !(await teams.find(trx, accountId, target))) {
            throw new AppError("validation_failed", "Choose another team of this account", {
              errors: [{ path, code: "not_found", message: "No such other team" }],
            });
          }
        }
        // Deleting takes the team's role away from its members; reassigning gives them the other team's.
        const destination = choice.reassignMembersTo
          ? await teams.find(trx, accountId, choice.reassignMembersTo)
          : undefined;
        assertCanAssign(caller, [
          await grantOf(trx, accountId, team.role?.id),
          team.memberIds.length ? await grantOf(trx, accountId, destination?.role?.id) : null,
        ]);
        const moved = choice.reassignMembersTo
          ? await teams.moveMembers(trx, accountId, teamId, choice.reassignMembersTo, now())
          : 0;
        const transferred = await teams.transferResources(
          trx,
          accountId,
          teamId,
          choice.transferResourcesTo === "account" ? null : choice.transferResourcesTo,
          now(),
        );
        await teams.delete(trx, accountId, teamId);
        await access.publishAccountChange(trx, effects.afterCommit, accountId);
        await recordAudit(
          trx,
          actor,
          {
            accountId,
            action: "team.deleted",
            targetType: "team",
            targetId: teamId,
            changes: {
              name: team.name,
              members_moved_to: choice.reassignMembersTo,
              members_moved: moved,
              resources_to: choice.transferResourcesTo,
              resources_moved: transferred,
            },
          },
          clock.now(),
        );
        await announce(trx, effects, actor, accountId, "team.deleted", team);
        // The team its members moved to gained them.
        if (destination && moved > 0)
          await announce(trx, effects, actor, accountId, "team.updated", destination.id);
      });
    },
  };
}

export type TeamsService = ReturnType<typeof createTeamsService>;
