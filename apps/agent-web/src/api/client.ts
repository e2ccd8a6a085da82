import type {
  AgentRouting, ApiKey, Attachment, CannedReply, Contact, Conversation, ConversationPage, ConversationRouting, Inbox,
  Invitation, Locale, Message, Offer, PerChannel, Queue, QueueInput, Role, Session, SettableAgentState, User, Wallboard,
  Webhook, WebhookDelivery, InboxSettings, ChannelType, ConnectionTest, ChannelError, WebhookUrl, TenantSettings, SendPolicy,
  Consent, ConsentStatus, ChannelMessage, DkimRecord,
} from './types';

/** An error answered by the API: `{ error: { code, message, details? } }` with its HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let unauthorizedHandler: (() => void) | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called on any 401 from an authenticated route so the app can show the login page. */
export function onUnauthorized(handler: (() => void) | null): void {
  unauthorizedHandler = handler;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | null | undefined>;
  /** Public routes (login, invitation) must not bounce to the login page on 401. */
  public?: boolean;
}

async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  let url = `/api/v1${path}`;
  if (opts.query) {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
    }
    const s = qs.toString();
    if (s) url += `?${s}`;
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: BodyInit | undefined;
  if (opts.body instanceof FormData) {
    body = opts.body;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(url, { method, headers, body, credentials: 'same-origin' }).catch((err: unknown) => {
    // No answer at all (offline, server down): a code of its own, so the UI can say so in the user's language.
    throw new ApiError(0, 'PARLEY_ERR_NETWORK', err instanceof Error ? err.message : String(err));
  });
  if (res.status === 401 && !opts.public) unauthorizedHandler?.();
  if (!res.ok) {
    let code = 'PARLEY_ERR_HTTP';
    let message = res.statusText || `HTTP ${res.status}`;
    let details: unknown;
    try {
      const json = (await res.json()) as { error?: { code?: string; message?: string; details?: unknown } };
      if (json.error) {
        code = json.error.code ?? code;
        message = json.error.message ?? message;
        details = json.error.details;
      }
    } catch {
      // Not JSON (proxy error page): keep the status text.
    }
    throw new ApiError(res.status, code, message, details);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Fetches an authenticated file (attachment) as a Blob. */
export async function fetchBlob(url: string): Promise<Blob> {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (res.status === 401) unauthorizedHandler?.();
  if (!res.ok) throw new ApiError(res.status, 'PARLEY_ERR_HTTP', `HTTP ${res.status}`);
  return res.blob();
}

export interface ConversationQuery {
  assignee: 'mine' | 'unassigned' | 'all';
  status: 'open' | 'pending' | 'snoozed' | 'resolved' | 'all';
  inboxId?: string;
  label?: string;
  contactId?: string;
  cursor?: string;
  limit?: number;
}

export interface ConversationPatch {
  status?: Conversation['status'];
  /** Required by the server with status 'snoozed'. */
  snoozedUntil?: string | null;
  assigneeId?: string | null;
  priority?: number;
  labels?: string[];
  customAttributes?: Record<string, unknown>;
}

/** Where a transfer sends a conversation: to one agent, or back to a queue. */
export type TransferTarget = { agentId: string } | { queueId: string };

export const api = {
  login: (email: string, password: string) =>
    request<Session>('/auth/login', { method: 'POST', body: { email, password }, public: true }),
  me: () => request<Session>('/auth/me', { public: true }),
  /** Like me(), but a 401 sends the app to the login page. */
  checkSession: () => request<Session>('/auth/me'),
  logout: () => request<void>('/auth/logout', { method: 'POST', body: {} }),
  updateMe: (patch: { name?: string; locale?: Locale }) =>
    request<Session | User | { user: User }>('/auth/me', { method: 'PATCH', body: patch }),
  acceptInvitation: (token: string, name: string, password: string) =>
    request<Session>(`/invitations/${encodeURIComponent(token)}/accept`, {
      method: 'POST', body: { name, password }, public: true,
    }),

  conversations: (q: ConversationQuery) =>
    request<ConversationPage>('/conversations', { query: { ...q } }),
  conversation: (id: string) => request<Conversation>(`/conversations/${id}`),
  updateConversation: (id: string, patch: ConversationPatch) =>
    request<Conversation>(`/conversations/${id}`, { method: 'PATCH', body: patch }),
  messages: (id: string, before?: string) =>
    request<{ items: Message[] }>(`/conversations/${id}/messages`, { query: { before, limit: 50 } }),
  sendMessage: (id: string, body: { content: string; private?: boolean; attachmentIds?: string[]; clientMessageId?: string }) =>
    request<Message>(`/conversations/${id}/messages`, { method: 'POST', body }),
  markRead: (id: string) => request<void>(`/conversations/${id}/read`, { method: 'POST', body: {} }),
  uploadAttachment: (file: File) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request<Attachment>('/attachments', { method: 'POST', body: form });
  },

  contact: (id: string) => request<Contact>(`/contacts/${id}`),
  contactConversations: (id: string) => request<{ items: Conversation[] }>(`/contacts/${id}/conversations`),

  users: () => request<{ items: User[] }>('/users'),
  labels: () => request<{ items: string[] }>('/labels'),

  cannedReplies: () => request<{ items: CannedReply[] }>('/canned-replies'),
  createCannedReply: (body: { shortCode: string; content: string }) =>
    request<CannedReply>('/canned-replies', { method: 'POST', body }),
  updateCannedReply: (id: string, body: { shortCode?: string; content?: string }) =>
    request<CannedReply>(`/canned-replies/${id}`, { method: 'PATCH', body }),
  deleteCannedReply: (id: string) => request<void>(`/canned-replies/${id}`, { method: 'DELETE' }),
  renderCannedReply: (id: string, conversationId: string) =>
    request<{ content: string }>(`/canned-replies/${id}/render`, { method: 'POST', body: { conversationId } }),

  inboxes: () => request<{ items: Inbox[] }>('/inboxes'),
  createInbox: (body: { name: string; channelType: ChannelType; settings?: Partial<InboxSettings> }) =>
    request<Inbox>('/inboxes', { method: 'POST', body }),
  updateInbox: (id: string, body: { name?: string; settings?: Partial<InboxSettings> }) =>
    request<Inbox>(`/inboxes/${id}`, { method: 'PATCH', body }),
  inboxSnippet: (id: string) => request<{ html: string }>(`/inboxes/${id}/snippet`),
  testConnection: (id: string) => request<ConnectionTest>(`/inboxes/${id}/test-connection`, { method: 'POST', body: {} }),
  channelErrors: (id: string) => request<{ items: ChannelError[] }>(`/inboxes/${id}/errors`),
  webhookUrls: async (id: string) => webhookUrlList(await request<unknown>(`/inboxes/${id}/webhook-urls`)),
  /** The inbox's DKIM record, or null when it does not sign yet. */
  dkimRecord: (id: string) => request<DkimRecord>(`/inboxes/${id}/email/dkim`).catch((err: unknown) => (err instanceof ApiError && err.status === 404 ? null : Promise.reject(err))),
  makeDkimKey: (id: string) => request<DkimRecord>(`/inboxes/${id}/email/dkim`, { method: 'POST', body: {} }),

  tenantSettings: () => request<TenantSettings>('/tenant/settings'),
  updateTenantSettings: (body: Partial<TenantSettings>) => request<TenantSettings>('/tenant/settings', { method: 'PATCH', body }),

  sendPolicy: (conversationId: string) => request<SendPolicy>(`/conversations/${conversationId}/send-policy`),
  sendTemplate: (conversationId: string, body: { name: string; language: string; parameters: string[] }) =>
    request<Message>(`/conversations/${conversationId}/template-messages`, { method: 'POST', body }),
  messageChannel: (messageId: string) => request<ChannelMessage>(`/messages/${messageId}/channel`),
  consents: (contactId: string) => request<{ items: Consent[] }>(`/contacts/${contactId}/consents`),
  setConsent: (contactId: string, inboxId: string, status: ConsentStatus) =>
    request<Consent>(`/contacts/${contactId}/consents/${inboxId}`, { method: 'PUT', body: { status } }),

  invitations: () => request<{ items: Invitation[] }>('/invitations'),
  invite: (email: string, role: Role) => request<Invitation>('/invitations', { method: 'POST', body: { email, role } }),

  apiKeys: () => request<{ items: ApiKey[] }>('/api-keys'),
  createApiKey: (name: string) => request<ApiKey>('/api-keys', { method: 'POST', body: { name } }),
  revokeApiKey: (id: string) => request<void>(`/api-keys/${id}`, { method: 'DELETE' }),

  webhooks: () => request<{ items: Webhook[] }>('/webhooks'),
  createWebhook: (url: string, events: string[]) => request<Webhook>('/webhooks', { method: 'POST', body: { url, events } }),
  deleteWebhook: (id: string) => request<void>(`/webhooks/${id}`, { method: 'DELETE' }),
  setWebhookEnabled: (id: string, enabled: boolean) => request<Webhook>(`/webhooks/${id}`, { method: 'PATCH', body: { enabled } }),
  webhookDeliveries: (id: string) => request<{ items: WebhookDelivery[] }>(`/webhooks/${id}/deliveries`),
  redeliverWebhookDelivery: (id: string, deliveryId: string) => request<WebhookDelivery>(`/webhooks/${id}/deliveries/${deliveryId}/redeliver`, { method: 'POST' }),
  redeliverFailedWebhooks: (id: string) => request<{ redelivered: number }>(`/webhooks/${id}/redeliver-failed`, { method: 'POST' }),

  // Routing (docs/routing-api.md)
  routingMe: () => request<AgentRouting>('/routing/me'),
  setMyState: (state: SettableAgentState, reason?: string) =>
    request<AgentRouting>('/routing/me/state', { method: 'PATCH', body: reason ? { state, reason } : { state } }),
  acceptOffer: (id: string) =>
    request<{ offer: Offer; conversation: Conversation }>(`/routing/offers/${encodeURIComponent(id)}/accept`, { method: 'POST', body: {} }),
  declineOffer: (id: string) =>
    request<{ offer: Offer }>(`/routing/offers/${encodeURIComponent(id)}/decline`, { method: 'POST', body: {} }),
  conversationRouting: (id: string) => request<ConversationRouting>(`/conversations/${id}/routing`),
  /** Hands the conversation to an agent (offered to them) or back to a queue, its history kept (CC-4). */
  transferConversation: (id: string, to: TransferTarget) =>
    request<Conversation>(`/conversations/${encodeURIComponent(id)}/transfer`, { method: 'POST', body: to }),
  wallboard: () => request<Wallboard>('/routing/wallboard'),
  queues: () => request<{ items: Queue[] }>('/routing/queues'),
  createQueue: (body: QueueInput) => request<Queue>('/routing/queues', { method: 'POST', body }),
  updateQueue: (id: string, body: Partial<QueueInput>) =>
    request<Queue>(`/routing/queues/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
  deleteQueue: (id: string) => request<void>(`/routing/queues/${encodeURIComponent(id)}`, { method: 'DELETE' }),
  routingAgents: () => request<{ items: AgentRouting[] }>('/routing/agents'),
  setAgentProfile: (userId: string, body: { skills: Record<string, number>; capacity: PerChannel<number> }) =>
    request<AgentRouting>(`/routing/agents/${encodeURIComponent(userId)}/profile`, { method: 'PUT', body }),
  skills: () => request<{ items: string[] }>('/routing/skills'),
  setInboxQueue: (inboxId: string, queueId: string | null) =>
    request<void>(`/routing/inboxes/${encodeURIComponent(inboxId)}/queue`, { method: 'PUT', body: { queueId } }),
};

/**
 * The webhook URLs of an inbox as a list, whichever way the server lays them out:
 * `{items: [{name, url}]}`, `{urls: {name: url}}` or `{name: url}`.
 */
export function webhookUrlList(body: unknown): WebhookUrl[] {
  if (!body || typeof body !== 'object') return [];
  const b = body as { items?: unknown; urls?: unknown };
  if (Array.isArray(b.items)) {
    return b.items.flatMap((i: { name?: unknown; kind?: unknown; url?: unknown }) =>
      typeof i?.url === 'string' ? [{ name: String(i.name ?? i.kind ?? ''), url: i.url }] : []);
  }
  const record = (b.urls && typeof b.urls === 'object' ? b.urls : b) as Record<string, unknown>;
  return Object.entries(record).flatMap(([name, url]) => (typeof url === 'string' && /^https?:\/\//.test(url) ? [{ name, url }] : []));
}

