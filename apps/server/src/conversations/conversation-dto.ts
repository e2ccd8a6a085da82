import { Type, type Static } from 'typebox';
import type { ContactRow, ConversationRow, MessageRow } from '../db/schema.ts';
import { ContactDto, toContactDto } from '../contacts/contact-dto.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const AttachmentDto = Type.Object({
  id: Type.String(),
  filename: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  url: Type.String(),
});

export const MessageDto = Type.Object({
  id: Type.String(),
  conversationId: Type.String(),
  direction: Type.Union([Type.Literal('in'), Type.Literal('out')]),
  private: Type.Boolean(),
  senderType: Type.Union([Type.Literal('contact'), Type.Literal('user'), Type.Literal('system')]),
  senderId: Nullable(Type.String()),
  senderName: Nullable(Type.String()),
  content: Type.String(),
  attachments: Type.Array(AttachmentDto),
  mentions: Type.Array(Type.String()),
  status: Type.String(),
  clientMessageId: Nullable(Type.String()),
  createdAt: Type.String(),
});
export type MessageDto = Static<typeof MessageDto>;

export const StatusSchema = Type.Union([Type.Literal('open'), Type.Literal('pending'), Type.Literal('snoozed'), Type.Literal('resolved')]);

export const ConversationDto = Type.Object({
  id: Type.String(),
  inboxId: Type.String(),
  channelType: Type.String(),
  status: StatusSchema,
  priority: Type.Integer(),
  assigneeId: Nullable(Type.String()),
  labels: Type.Array(Type.String()),
  customAttributes: Type.Record(Type.String(), Type.Unknown()),
  contact: ContactDto,
  lastMessage: Nullable(MessageDto),
  unreadCount: Type.Integer(),
  lastActivityAt: Type.String(),
  createdAt: Type.String(),
  snoozedUntil: Nullable(Type.String()),
  contactLastReadAt: Nullable(Type.String()),
  agentLastReadAt: Nullable(Type.String()),
});
export type ConversationDto = Static<typeof ConversationDto>;

/** Attachment bytes are served by a route that checks who asks; agents and visitors use different ones. */
export const AGENT_ATTACHMENTS = '/api/v1/attachments';
export const VISITOR_ATTACHMENTS = '/api/v1/widget/conversation/attachments';

export function toMessageDto(m: MessageRow): MessageDto {
  return {
    id: m.id,
    conversationId: m.conversation_id,
    direction: m.direction,
    private: m.private,
    senderType: m.sender_type,
    senderId: m.sender_id,
    senderName: m.sender_name,
    content: m.content,
    attachments: m.attachments.map((a) => ({ ...a, url: `${AGENT_ATTACHMENTS}/${a.id}` })),
    mentions: m.mentions,
    status: m.status,
    clientMessageId: m.client_message_id,
    createdAt: m.created_at.toISOString(),
  };
}

export function toConversationDto(c: ConversationRow, contact: ContactRow, lastMessage: MessageRow | null): ConversationDto {
  return {
    id: c.id,
    inboxId: c.inbox_id,
    channelType: c.channel_type,
    status: c.status,
    priority: c.priority,
    assigneeId: c.assignee_id,
    labels: c.labels,
    customAttributes: c.custom_attributes,
    contact: toContactDto(contact),
    lastMessage: lastMessage ? toMessageDto(lastMessage) : null,
    unreadCount: c.unread_count,
    lastActivityAt: c.last_activity_at.toISOString(),
    createdAt: c.created_at.toISOString(),
    snoozedUntil: c.snoozed_until?.toISOString() ?? null,
    contactLastReadAt: c.contact_last_read_at?.toISOString() ?? null,
    agentLastReadAt: c.agent_last_read_at?.toISOString() ?? null,
  };
}

/** What a visitor may know of a realtime event; null = nothing. */
export function visitorView(type: string, payload: unknown): unknown | null {
  if (type === 'message.created') {
    const m = payload as MessageDto;
    if (m.private) return null;
    return { ...m, mentions: [], attachments: m.attachments.map((a) => ({ ...a, url: `${VISITOR_ATTACHMENTS}/${a.id}` })) };
  }
  if (type === 'conversation.updated' || type === 'conversation.created') {
    const c = payload as ConversationDto;
    return { id: c.id, status: c.status, agentLastReadAt: c.agentLastReadAt };
  }
  if (type === 'conversation.read') return payload;
  return null;
}
