import type { Attachment, ConversationSnapshot, CreatedConversation, InboxConfig, Message } from './types.ts';

/** A failed call: `status` 0 means the network failed; `code` is the server's `PARLEY_ERR_…` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface CreateConversationInput {
  name?: string;
  email?: string;
  identifier?: string;
  identifierHash?: string;
  message?: string;
  locale?: string;
}

/**
 * The widget's HTTP client for `/api/v1/widget/*`. Requests never carry cookies
 * (`credentials: 'omit'`): the visitor is identified only by the bearer visitor token, so the
 * widget works cross-origin without third-party cookies.
 */
export class WidgetApi {
  token: string | null = null;

  constructor(
    readonly base: URL,
    readonly publicId: string,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  url(path: string): string {
    return new URL(path.replace(/^\//, ''), this.base).href;
  }

  realtimeUrl(): string {
    const u = new URL(this.url(`api/v1/widget/realtime?inbox=${encodeURIComponent(this.publicId)}`));
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.href;
  }

  private async request(path: string, init: RequestInit & { timeoutMs?: number; auth?: boolean } = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (init.auth && this.token) headers.set('Authorization', `Bearer ${this.token}`);
    const ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    const timer = ctrl ? setTimeout(() => ctrl.abort(), init.timeoutMs ?? 20_000) : null;
    let res: Response;
    try {
      res = await this.fetchImpl(this.url(path), { ...init, headers, credentials: 'omit', mode: 'cors', signal: ctrl?.signal });
    } catch (err) {
      throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : 'network error');
    } finally {
      if (timer) clearTimeout(timer);
    }
    if (!res.ok) {
      let code = `HTTP_${res.status}`;
      let message = res.statusText || 'Request failed';
      try {
        const body = (await res.json()) as { error?: { code?: unknown; message?: unknown } };
        if (typeof body?.error?.code === 'string') code = body.error.code;
        if (typeof body?.error?.message === 'string') message = body.error.message;
      } catch {
        /* not JSON */
      }
      throw new ApiError(res.status, code, message);
    }
    return res;
  }

  private async json<T>(path: string, init: RequestInit & { auth?: boolean; timeoutMs?: number } = {}): Promise<T> {
    const res = await this.request(path, init);
    if (res.status === 204) return undefined as T;
    try {
      return (await res.json()) as T;
    } catch {
      throw new ApiError(res.status, 'BAD_RESPONSE', 'The server sent an unreadable answer');
    }
  }

  private post<T>(path: string, body: unknown, auth = false): Promise<T> {
    return this.json<T>(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      auth,
    });
  }

  getInbox(): Promise<InboxConfig> {
    return this.json(`api/v1/widget/inboxes/${encodeURIComponent(this.publicId)}`);
  }

  createConversation(input: CreateConversationInput): Promise<CreatedConversation> {
    return this.post(`api/v1/widget/inboxes/${encodeURIComponent(this.publicId)}/conversations`, input);
  }

  sendOfflineMessage(input: { name: string; email: string; message: string }): Promise<{ ok: true }> {
    return this.post(`api/v1/widget/inboxes/${encodeURIComponent(this.publicId)}/offline-messages`, input);
  }

  getConversation(): Promise<ConversationSnapshot> {
    return this.json('api/v1/widget/conversation', { auth: true });
  }

  sendMessage(input: { content: string; clientMessageId: string; attachmentIds?: string[] }): Promise<Message> {
    const body = input.attachmentIds && input.attachmentIds.length ? input : { content: input.content, clientMessageId: input.clientMessageId };
    return this.post('api/v1/widget/conversation/messages', body, true);
  }

  uploadAttachment(file: File): Promise<Attachment> {
    const form = new FormData();
    form.append('file', file, file.name);
    return this.json('api/v1/widget/conversation/attachments', { method: 'POST', body: form, auth: true, timeoutMs: 120_000 });
  }

  /** Downloads an attachment with the visitor token; the URL in `Attachment.url` can't carry it. */
  async fetchAttachment(id: string): Promise<Blob> {
    const res = await this.request(`api/v1/widget/conversation/attachments/${encodeURIComponent(id)}`, { auth: true, timeoutMs: 120_000 });
    return res.blob();
  }
}
