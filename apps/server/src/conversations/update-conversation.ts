import type { Transaction } from 'kysely';
import type { ConversationRow, ConversationStatus, Database } from '../db/schema.ts';
import type { Deps } from '../deps.ts';
import type { Principal } from '../auth/principal.ts';
import { ParleyError } from '../errors.ts';
import { transact, type Outbox } from '../realtime/transact.ts';
import { getConversationRowOrThrow, loadConversationDto, recordConversationEvents } from './conversations.repository.ts';

export interface ConversationPatch {
  status?: ConversationStatus;
  snoozedUntil?: string | null;
  assigneeId?: string | null;
  priority?: number;
  labels?: string[];
  customAttributes?: Record<string, unknown>;
}

/**
 * Changes status, assignee, priority, labels or attributes; each change is one history event.
 * Agents may take an unassigned conversation or drop their own; reassigning needs a supervisor.
 */
export async function updateConversation(deps: Pick<Deps, 'db' | 'committer' | 'routing'>, principal: Principal, id: string, patch: ConversationPatch) {
  const tenantId = principal.tenantId;
  return transact(deps, tenantId, async (trx, outbox) => {
    const current = await getConversationRowOrThrow(trx, tenantId, id, true);
    const changes: Record<string, unknown> = {};
    const events: { type: string; data: Record<string, unknown> }[] = [];

    if (patch.assigneeId !== undefined && patch.assigneeId !== current.assignee_id) {
      // An agent takes what nobody holds, or drops what they hold; anything else is a supervisor's call.
      const selfService =
        (patch.assigneeId === principal.userId && current.assignee_id === null) || (patch.assigneeId === null && current.assignee_id === principal.userId);
      if (principal.role === 'agent' && !selfService) throw new ParleyError('PARLEY_ERR_FORBIDDEN', 'agents may take unassigned conversations or drop their own; ask a supervisor to reassign');
      if (patch.assigneeId) {
        const user = await trx.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('id', '=', patch.assigneeId).executeTakeFirst();
        if (!user) throw new ParleyError('PARLEY_ERR_VALIDATION', 'assignee is not a user of this tenant');
      }
      changes.assignee_id = patch.assigneeId;
      events.push({ type: patch.assigneeId ? 'assigned' : 'unassigned', data: { from: current.assignee_id, to: patch.assigneeId } });
    }
    if (patch.status !== undefined && patch.status !== current.status) {
      if (patch.status === 'snoozed' && !patch.snoozedUntil) throw new ParleyError('PARLEY_ERR_VALIDATION', 'snoozing needs snoozedUntil');
      changes.status = patch.status;
      changes.snoozed_until = patch.status === 'snoozed' ? new Date(patch.snoozedUntil!) : null;
      events.push({ type: 'status_changed', data: { from: current.status, to: patch.status } });
    }
    if (patch.priority !== undefined && patch.priority !== current.priority) {
      changes.priority = patch.priority;
      events.push({ type: 'priority_changed', data: { from: current.priority, to: patch.priority } });
    }
    if (patch.labels !== undefined) {
      const labels = [...new Set(patch.labels.map((l) => l.trim().toLowerCase()).filter(Boolean))].sort();
      if (JSON.stringify(labels) !== JSON.stringify(current.labels)) {
        changes.labels = JSON.stringify(labels);
        events.push({ type: 'labels_changed', data: { from: current.labels, to: labels } });
      }
    }
    if (patch.customAttributes !== undefined) {
      changes.custom_attributes = JSON.stringify({ ...current.custom_attributes, ...patch.customAttributes });
      events.push({ type: 'attributes_changed', data: { set: patch.customAttributes } });
    }
    if (events.length === 0) return loadConversationDto(trx, tenantId, current);

    const updated = await trx
      .updateTable('conversations')
      .set({ ...changes, updated_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordConversationEvents(
      trx,
      events.map((e) => ({ tenantId, conversationId: id, type: e.type, actorType: principal.userId ? 'user' : 'system', actorId: principal.userId, data: e.data })),
    );
    const dto = await loadConversationDto(trx, tenantId, updated);
    outbox.emit({ conversationId: id, audience: 'all', type: 'conversation.updated', payload: dto });
    await routeChange(deps, trx, outbox, tenantId, current, updated);
    return dto;
  });
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

/** Tells routing what a person changed: resolved, paused, re-opened, or (un)assigned by hand. */
async function routeChange(deps: Pick<Deps, 'routing'>, trx: Transaction<Database>, outbox: Outbox, tenantId: string, before: ConversationRow, after: ConversationRow) {
  const routing = deps.routing;
  if (after.status === 'resolved' && before.status !== 'resolved') return routing.completeInTx(trx, outbox, tenantId, after.id);
  const reweighed = after.priority !== before.priority || JSON.stringify(after.labels) !== JSON.stringify(before.labels) || JSON.stringify(after.custom_attributes) !== JSON.stringify(before.custom_attributes);
  if (reweighed && after.status === 'open') await routing.itemChangedInTx(trx, outbox, tenantId, after);
  if (after.assignee_id !== before.assignee_id) await routing.assigneeChangedInTx(trx, outbox, tenantId, after.id, after.assignee_id);
  if (after.status !== 'open' && before.status === 'open') await routing.pausedInTx(trx, outbox, tenantId, after.id);
  else if (after.status === 'open' && before.status !== 'open') await routing.arriveInTx(trx, outbox, tenantId, after.id);
}
