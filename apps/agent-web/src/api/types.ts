/** Shapes of the Parley HTTP API v1, as described in docs/realtime-and-api.md. */

export type Role = 'admin' | 'supervisor' | 'agent';
export type Locale = 'en' | 'es-MX' | 'pt-BR';
export type ConversationStatus = 'open' | 'pending' | 'snoozed' | 'resolved';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
  createdAt: string;
}

export interface Tenant {
  id: string;
  name: string;
}

export interface Session {
  user: User;
  tenant: Tenant;
  csrfToken: string;
}

export interface PrechatField {
  name: 'name' | 'email';
  required: boolean;
}

export interface InboxSettings {
  color: string;
  greeting: string;
  prechat: { enabled: boolean; fields: PrechatField[] };
  allowedDomains: string[];
}

export interface Inbox {
  id: string;
  publicId: string;
  name: string;
  channelType: 'webchat';
  settings: InboxSettings;
  identitySecret?: string;
  createdAt: string;
}

export interface Contact {
  id: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  identifier: string | null;
  verified: boolean;
  customAttributes: Record<string, unknown>;
  createdAt: string;
}

export interface Attachment {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  url: string;
}

export interface Message {
  id: string;
  conversationId: string;
  direction: 'in' | 'out';
  private: boolean;
  senderType: 'contact' | 'user' | 'system';
  senderId: string | null;
  senderName: string | null;
  content: string;
  attachments: Attachment[];
  mentions: string[];
  status: 'received' | 'sent' | 'delivered' | 'read' | 'failed';
  clientMessageId: string | null;
  createdAt: string;
}

export interface Conversation {
  id: string;
  inboxId: string;
  status: ConversationStatus;
  priority: number;
  assigneeId: string | null;
  labels: string[];
  customAttributes: Record<string, unknown>;
  contact: Contact;
  lastMessage: Message | null;
  unreadCount: number;
  lastActivityAt: string;
  createdAt: string;
  contactLastReadAt: string | null;
  agentLastReadAt: string | null;
  /** When a snoozed conversation reopens (served by the server, not yet in the contract doc). */
  snoozedUntil?: string | null;
}

export interface ConversationCounts {
  mine: number;
  unassigned: number;
  all: number;
}

export interface ConversationPage {
  items: Conversation[];
  counts: ConversationCounts;
  nextCursor?: string | null;
}

export interface CannedReply {
  id: string;
  shortCode: string;
  content: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  acceptUrl: string;
  expiresAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  key?: string;
  createdAt: string;
}

export interface Webhook {
  id: string;
  url: string;
  events: string[];
  secret?: string;
  createdAt?: string;
}

export interface WebhookDelivery {
  id: string;
  event: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

export type ServerEvent =
  | { type: 'conversation.created'; data: Conversation }
  | { type: 'conversation.updated'; data: Conversation }
  | { type: 'message.created'; data: Message }
  | { type: 'conversation.read'; data: { conversationId: string; by: 'contact' | 'agent'; at: string } };

export type EphemeralEvent =
  | { type: 'typing'; data: { conversationId: string; who: 'contact' | 'agent'; userId?: string; on: boolean } }
  | { type: 'presence'; data: { userId: string; online: boolean } };

export type ServerFrame =
  | { type: 'ready'; seq: number }
  | { type: 'resync'; seq: number }
  | { type: 'event'; seq: number; event: ServerEvent }
  | { type: 'ephemeral'; event: EphemeralEvent }
  | { type: 'pong' };
