import type { Transaction } from 'kysely';
import { isRoutingError } from '@parley/routing';
import type { ConversationRow, ConversationStatus, Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import type { Principal } from '../auth/principal.ts';
import { notFound, ParleyError } from '../errors.ts';
import { bindBatch, transact, type Outbox } from '../realtime/transact.ts';
import { toConversationDto, type ConversationDto } from './conversation-dto.ts';
import { insertConversationEvents, loadConversationDto, lockConversationsAsShown, updateConversationsSql, type ConversationEventInput } from './conversations.repository.ts';

export interface ConversationPatch {
  status?: ConversationStatus;
  snoozedUntil?: string | null;
  assigneeId?: string | null;
  priority?: number;
  labels?: string[];
  customAttributes?: Record<string, unknown>;
}

/** The columns a PATCH may change, written together for every conversation a batch changes. */
const PATCHED_COLUMNS = ['status', 'snoozed_until', 'assignee_id', 'priority', 'labels', 'custom_attributes'] as const;

interface ConversationUpdate {
  principal: Principal;
  id: string;
  patch: ConversationPatch;
}
/** The error is a ParleyError or, for an assignment routing refused, a RoutingError. */
type UpdateOutcome = { dto: ConversationDto } | { error: Error };

/**
 * Changes status, assignee, priority, labels or attributes; each change is one history event.
 * Agents may take an unassigned conversation or drop their own; reassigning needs a supervisor.
 * Changes queued together are done together (see updateConversations).
 */
export async function updateConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, principal: Principal, id: string, patch: ConversationPatch): Promise<ConversationDto> {
  const outcome = await deps.committer.runBatched(principal.tenantId, updateBatchOf(deps), { principal, id, patch });
  if ('error' in outcome) throw outcome.error;
  return outcome.dto;
}

const updateBatchOf = bindBatch(updateConversations);

/**
 * A batch of changes in a few statements whatever its size: the conversations locked and read
 * together, the changes checked and applied in order in memory (a refused change writes nothing
 * and does not stop the others), one UPDATE, one insert of history, routing told once, the
 * conversations read once for the answers and `conversation.updated`.
 */
async function updateConversations(deps: Pick<Deps, 'committer' | 'routing'>, trx: Transaction<Database>, outbox: Outbox, inputs: ConversationUpdate[]): Promise<UpdateOutcome[]> {
  const tenantId = inputs[0]!.principal.tenantId;
  // Routing follows nearly every change (all but a snooze's time alone): its lock is sent right
  // behind the conversations' (the order every use case takes them in), in the same round trip with pipelining.
  const routingLock = inputs.some(({ patch }) => Object.keys(patch).some((k) => k !== 'snoozedUntil')) ? () => deps.routing.lockAhead(trx, tenantId) : undefined;
  const { locked, now } = await lockConversationsAsShown(trx, tenantId, [...new Set(inputs.map((u) => u.id))], routingLock);
  const before = new Map([...locked.values()].map((l) => [l.conversation.id, l.conversation]));
  const current = new Map(before);
  const assignees = [...new Set(inputs.flatMap((u) => (u.patch.assigneeId ? [u.patch.assigneeId] : [])))];
  const users = new Set(
    assignees.length === 0 ? [] : (await trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', 'in', assignees).execute()).map((u) => u.id),
  );

  const history: ConversationEventInput[] = [];
  // In order: each change starts from where the ones before it left the conversation.
  const outcomes: ({ id: string } | { error: Error })[] = [];
  const takenByRouting = new Set<string>();
  for (const { principal, id, patch } of inputs) {
    const row = current.get(id);
    if (!row) {
      outcomes.push({ error: notFound('conversation') });
      continue;
    }
    const actor = { type: principal.userId ? ('user' as const) : ('system' as const), id: principal.userId };
    try {
      let { after, events } = applyPatch(row, principal, patch, users);
      if (patch.assigneeId && after.assignee_id !== row.assignee_id && row.routing_state !== null) {
        // Work routing holds is assigned the routed way (pick or force-assign), which writes its own history.
        const { contact, lastMessage } = locked.get(id)!;
        const move = { agentId: patch.assigneeId, pick: principal.role === 'agent', actor };
        const taken = await deps.routing.assignRoutedInTx(trx, outbox, tenantId, { row: { ...row, updated_at: now! }, contact, lastMessage }, move);
        if (taken instanceof Error) throw taken;
        if (taken) {
          ({ after, events } = applyPatch(taken.row, principal, { ...patch, assigneeId: undefined }, users));
          // Routing wrote and announced the assignment: what follows starts from it.
          before.set(id, { ...before.get(id)!, assignee_id: taken.row.assignee_id, routing_state: taken.row.routing_state });
          takenByRouting.add(id);
        }
      }
      current.set(id, after);
      history.push(...events.map((e) => ({ tenantId, conversationId: id, type: e.type, actorType: actor.type, actorId: actor.id, data: e.data })));
      outcomes.push({ id });
    } catch (err) {
      if (err instanceof ParleyError || isRoutingError(err)) outcomes.push({ error: err });
      else throw err;
    }
  }

  const changedIds = [...new Set(history.map((e) => e.conversationId))];
  let routed = new Map<string, ConversationDto>();
  if (changedIds.length > 0) {
    const values = changedIds.map((id) => {
      const r = current.get(id)!;
      return { id, status: r.status, snoozed_until: r.snoozed_until, assignee_id: r.assignee_id, priority: r.priority, labels: r.labels, custom_attributes: r.custom_attributes };
    });
    // The rows are locked, so the UPDATE's outcome is known here (its updated_at is the
    // transaction's now()): it is deferred, and rides with the next statement.
    // Routing's writes of an assignment go first: one statement must not update a row twice (see Outbox.defer).
    if (changedIds.some((id) => takenByRouting.has(id))) await outbox.flush();
    outbox.defer(insertConversationEvents(history));
    outbox.defer(updateConversationsSql(tenantId, [...PATCHED_COLUMNS], values));
    const changes = changedIds.map((id) => {
      const row = { ...current.get(id)!, updated_at: now! };
      current.set(id, row);
      const { contact, lastMessage } = locked.get(id)!;
      return { before: before.get(id)!, after: { row, contact, lastMessage } };
    });
    routed = await deps.routing.conversationsChangedInTx(trx, outbox, tenantId, changes);
  }
  // As routing left them when it followed the changes (where it put them), else as changed here.
  const dtoOf = (id: string) => {
    const { contact, lastMessage } = locked.get(id)!;
    return routed.get(id) ?? toConversationDto(current.get(id)!, contact, lastMessage);
  };
  for (const id of changedIds) outbox.emit({ conversationId: id, audience: 'all', type: 'conversation.updated', payload: dtoOf(id) });
  return outcomes.map((o) => ('id' in o ? { dto: dtoOf(o.id) } : o));
}

/** One person's change of a conversation as it stands: the row after it and its history events, or a ParleyError. */
function applyPatch(row: ConversationRow, principal: Principal, patch: ConversationPatch, users: Set<string>) {
  const after = { ...row };
  const events: { type: string; data: Record<string, unknown> }[] = [];
  if (patch.assigneeId !== undefined && patch.assigneeId !== row.assignee_id) {
    // An agent takes what nobody holds, or drops what they hold; anything else is a supervisor's call.
    const selfService = (patch.assigneeId === principal.userId && row.assignee_id === null) || (patch.assigneeId === null && row.assignee_id === principal.userId);
    if (principal.role === 'agent' && !selfService) throw new ParleyError('PARLEY_ERR_FORBIDDEN', 'agents may take unassigned conversations or drop their own; ask a supervisor to reassign');
    if (patch.assigneeId && !users.has(patch.assigneeId)) throw new ParleyError('PARLEY_ERR_VALIDATION', 'assignee is not a user of this tenant');
    after.assignee_id = patch.assigneeId;
    events.push({ type: patch.assigneeId ? 'assigned' : 'unassigned', data: { from: row.assignee_id, to: patch.assigneeId } });
  }
  if (patch.status !== undefined && patch.status !== row.status) {
    if (patch.status === 'snoozed' && !patch.snoozedUntil) throw new ParleyError('PARLEY_ERR_VALIDATION', 'snoozing needs snoozedUntil');
    after.status = patch.status;
    after.snoozed_until = patch.status === 'snoozed' ? new Date(patch.snoozedUntil!) : null;
    events.push({ type: 'status_changed', data: { from: row.status, to: patch.status } });
  }
  if (patch.priority !== undefined && patch.priority !== row.priority) {
    after.priority = patch.priority;
    events.push({ type: 'priority_changed', data: { from: row.priority, to: patch.priority } });
  }
  if (patch.labels !== undefined) {
    const labels = [...new Set(patch.labels.map((l) => l.trim().toLowerCase()).filter(Boolean))].sort();
    if (JSON.stringify(labels) !== JSON.stringify(row.labels)) {
      after.labels = labels;
      events.push({ type: 'labels_changed', data: { from: row.labels, to: labels } });
    }
  }
  if (patch.customAttributes !== undefined) {
    after.custom_attributes = { ...row.custom_attributes, ...patch.customAttributes };
    events.push({ type: 'attributes_changed', data: { set: patch.customAttributes } });
  }
  return { after, events };
}

/** Agents read the conversation (unread drops to 0), or the visitor read the agents' replies. */
export async function markConversationRead(deps: Pick<Deps, 'db' | 'committer'>, tenantId: string, id: string, by: 'agent' | 'contact') {
  await transact(deps, tenantId, async (trx, outbox) => {
    const at = new Date();
    const updated = await trx
      .updateTable('conversations')
      .set(by === 'agent' ? { unread_count: 0, agent_last_read_at: at } : { contact_last_read_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!updated) throw new ParleyError('PARLEY_ERR_NOT_FOUND', 'conversation not found');
    outbox.emit({ conversationId: id, audience: 'all', type: 'conversation.read', payload: { conversationId: id, by, at: at.toISOString() } });
    if (by === 'agent') outbox.emit({ conversationId: id, audience: 'agents', type: 'conversation.updated', payload: await loadConversationDto(trx, tenantId, updated) });
  });
}
