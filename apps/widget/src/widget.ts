import { ApiError, WidgetApi } from './api.ts';
import { backoffDelay } from './backoff.ts';
import { safeColor, textColorOn } from './color.ts';
import { translator, type Locale, type MessageKey, type Translate } from './i18n.ts';
import { isValidEmail, newClientMessageId } from './ids.ts';
import { linkify } from './linkify.ts';
import {
  isReadByAgent,
  lastAgentMessageId,
  lastVisitorMessage,
  mergeMessages,
  pendingItem,
  replaceMessages,
  upsertPending,
  type ChatItem,
} from './message-list.ts';
import { isRetryable, Outbox, OutboxSender, type OutboxEntry } from './outbox.ts';
import { RealtimeClient, type RealtimeEvent } from './realtime.ts';
import { WidgetStorage, type KeyValueStore } from './storage.ts';
import type { Attachment, InboxConfig, ParleySettings } from './types.ts';
import { TypingThrottle } from './typing.ts';
import { CSS } from './ui/styles.ts';
import { formatSize, guard, h, icon, ICONS, reportError } from './ui/dom.ts';

/** Server errors a visitor can cause and fix themselves; any other is the caller's generic line. */
const VISITOR_ERRORS: Partial<Record<string, MessageKey>> = {
  PARLEY_ERR_VALIDATION: 'notAccepted',
  PARLEY_ERR_BAD_REQUEST: 'notAccepted',
  PARLEY_ERR_PAYLOAD_TOO_LARGE: 'tooLarge',
  PARLEY_ERR_UNSUPPORTED_MEDIA_TYPE: 'fileTypeRefused',
  PARLEY_ERR_RATE_LIMITED: 'slowDown',
  PARLEY_ERR_IDENTITY_HASH_INVALID: 'identityRefused',
};

export const MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024;
/** Only these are drawn as images; anything else (SVG, HTML, …) is offered as a download. */
const INLINE_IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];

export interface WidgetOptions {
  publicId: string;
  /** Base URL of the Parley server, derived from the script's `src`. */
  base: URL;
  locale: Locale;
  settings: ParleySettings;
  store: KeyValueStore;
}

type View = 'loading' | 'prechat' | 'offline' | 'offline-sent' | 'chat';

/**
 * The web chat widget of one inbox: a launcher and a panel in a shadow root, the pre-chat and
 * offline forms, and the conversation kept in sync over HTTP + the realtime socket.
 */
export class ParleyWidget {
  private readonly api: WidgetApi;
  private readonly storage: WidgetStorage;
  private readonly t: Translate;
  private readonly outbox: Outbox;
  private readonly sender: OutboxSender;
  private readonly typing: TypingThrottle;
  private rt: RealtimeClient | null = null;

  private config: InboxConfig | null = null;
  private view: View = 'loading';
  private isOpen = false;
  private items: ChatItem[] = [];
  private agentLastReadAt: string | null = null;
  private unread = 0;
  private agentTyping = false;
  private agentTypingTimer: ReturnType<typeof setTimeout> | null = null;
  private readSentFor: string | null = null;
  private connected = false;
  private reconnectingShown = false;
  private reconnectingTimer: ReturnType<typeof setTimeout> | null = null;
  private creating: Promise<void> | null = null;
  private blobUrls = new Map<string, string>();
  private rowCache = new Map<string, { sig: string; el: HTMLElement }>();

  // DOM
  private host!: HTMLElement;
  private shadow!: ShadowRoot;
  private root!: HTMLElement;
  private launcher!: HTMLButtonElement;
  private badge!: HTMLElement;
  private panel!: HTMLElement;
  private titleEl!: HTMLElement;
  private statusEl!: HTMLElement;
  private dotEl!: HTMLElement;
  private content!: HTMLElement;
  private noticeEl!: HTMLElement;
  private noticeTimer: ReturnType<typeof setTimeout> | null = null;
  private bodyEl: HTMLElement | null = null;
  private listEl: HTMLElement | null = null;
  private typingEl: HTMLElement | null = null;
  private textarea: HTMLTextAreaElement | null = null;
  private sendBtn: HTMLButtonElement | null = null;

  constructor(private readonly opts: WidgetOptions) {
    this.api = new WidgetApi(opts.base, opts.publicId);
    this.storage = new WidgetStorage(opts.store, opts.publicId);
    this.t = translator(opts.locale);
    this.outbox = new Outbox(
      () => this.storage.getRaw('outbox'),
      (raw) => this.storage.setRaw('outbox', raw),
    );
    this.sender = new OutboxSender({
      outbox: this.outbox,
      post: (e) => this.api.sendMessage({ content: e.content, clientMessageId: e.clientMessageId, attachmentIds: e.attachmentIds }),
      onSent: (message) => {
        this.items = mergeMessages(this.items, [message]);
        this.renderMessages();
      },
      onFailed: (entry, err) => {
        if (err instanceof ApiError && err.status === 401) {
          this.outbox.add(entry); // keep it for the new conversation
          this.sessionLost();
          return;
        }
        this.items = upsertPending(this.items, pendingItem(entry, 'failed'));
        this.renderMessages();
        this.showError(err);
      },
      onRetrying: (err) => {
        if (err instanceof ApiError && err.status === 0) this.notice('networkError', 'info');
      },
    });
    this.typing = new TypingThrottle((on) => void this.rt?.send({ type: 'typing', on }));
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  async start(): Promise<void> {
    this.mount();
    let config: InboxConfig | null = null;
    for (let attempt = 0; !config; attempt++) {
      try {
        config = await this.api.getInbox();
      } catch (err) {
        if (err instanceof ApiError && err.status >= 400 && err.status < 500) {
          // Unknown inbox (or a typo in data-inbox): stay out of the page.
          this.host.remove();
          throw err;
        }
        if (attempt >= 5) throw err;
        await sleep(backoffDelay(attempt, { base: 1000, max: 15_000 }));
      }
    }
    this.config = config;
    this.applyConfig(config);
    this.listenToPage();

    const settings = this.opts.settings;
    const identifier = settings.identifier && settings.identifierHash ? settings.identifier : null;
    const session = this.storage.getSession();
    if (session && session.identifier !== identifier) {
      // Another (or no longer the same) logged-in visitor: never show them the previous chat.
      this.storage.clearSession();
    } else if (session) {
      this.api.token = session.token;
    }

    if (this.api.token) {
      this.showChat();
      await this.loadConversation(true);
      if (this.api.token) this.startRealtime();
    } else {
      this.showStartView();
    }
    if (this.storage.getRaw('open') === '1') this.setOpen(true, false);
  }

  /** Opens the panel. */
  open(): void {
    this.setOpen(true);
  }

  /** Closes the panel. */
  close(): void {
    this.setOpen(false);
  }

  toggle(): void {
    this.setOpen(!this.isOpen);
  }

  private showStartView(): void {
    const config = this.config as InboxConfig;
    if (!config.online) this.showOffline();
    else if (config.prechat?.enabled && !this.prechatAnswered()) this.showPrechat();
    else {
      this.showChat();
      // No form to fill: the conversation is created with the first message. Messages left
      // in the outbox by a previous page need one now.
      this.resumeCreation();
    }
  }

  /** A verified visitor whose page already gave every required pre-chat field skips the form. */
  private prechatAnswered(): boolean {
    const s = this.opts.settings;
    if (!s.identifier || !s.identifierHash) return false;
    const fields = Array.isArray(this.config?.prechat?.fields) ? this.config.prechat.fields : [];
    return fields.every((f) => !f.required || !!s[f.name]);
  }

  /** Creates the conversation for messages waiting in the outbox, retrying while the network is down. */
  private resumeCreation(): void {
    if (this.api.token || !this.outbox.entries().length || this.view !== 'chat') return;
    this.ensureConversation({}).then(
      () => this.sender.flush(),
      (err) => this.creationFailed(err),
    );
  }

  private creationFailed(err: unknown): void {
    if (isRetryable(err)) {
      this.showError(err);
      setTimeout(guard(() => this.resumeCreation()), 5000);
      return;
    }
    // The server refused the visitor (bad identity hash, missing field): these will never go.
    for (const e of this.outbox.entries().slice()) {
      this.outbox.remove(e.clientMessageId);
      this.items = upsertPending(this.items, pendingItem(e, 'failed'));
    }
    this.renderMessages();
    this.showError(err);
  }

  private sessionLost(): void {
    this.rt?.stop();
    this.rt = null;
    const pending = this.outbox.entries().slice();
    this.storage.clearSession();
    for (const e of pending) this.outbox.add(e);
    this.api.token = null;
    this.items = this.items.filter((i) => i.state !== 'sent');
    this.agentLastReadAt = null;
    this.rowCache.clear();
    this.showStartView();
    this.notice('sessionEnded', 'info');
  }

  private async loadConversation(replace: boolean): Promise<void> {
    try {
      const snap = await this.api.getConversation();
      this.applySnapshot(snap.messages ?? [], snap.conversation?.agentLastReadAt ?? null, replace);
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) {
        this.sessionLost();
        return;
      }
      this.showError(err);
      throw err;
    }
  }

  private applySnapshot(messages: Parameters<typeof mergeMessages>[1], agentLastReadAt: string | null, replace: boolean): void {
    // Local "sending" copies come from the outbox, which outlives the page.
    let items = this.items;
    for (const e of this.outbox.entries()) items = upsertPending(items, pendingItem(e));
    items = replace ? replaceMessages(items, messages) : mergeMessages(items, messages);
    // A message the server already has is no longer pending, whatever the outbox says.
    for (const m of messages) if (m.clientMessageId && this.outbox.has(m.clientMessageId)) this.outbox.remove(m.clientMessageId);
    this.items = items;
    this.setAgentRead(agentLastReadAt);
    this.renderMessages(true);
    this.maybeSendRead();
    void this.sender.flush();
  }

  private startRealtime(): void {
    if (this.rt) return;
    this.rt = new RealtimeClient({
      url: this.api.realtimeUrl(),
      token: () => this.api.token,
      getLastSeq: () => this.storage.getLastSeq(),
      setLastSeq: (seq) => this.storage.setLastSeq(seq),
      handlers: {
        event: (e) => this.onEvent(e),
        resync: () => this.loadConversation(true),
        ready: (fresh) => {
          // Without lastSeq nothing was replayed: fetch what happened before `ready`.
          if (fresh) this.loadConversation(false).catch(reportError);
          this.sender.kick();
          this.maybeSendRead();
        },
        typing: (on) => this.setAgentTyping(on),
        status: (connected) => this.setConnected(connected),
        rejected: () => {
          // Maybe the token was revoked; the conversation endpoint tells us for sure.
          this.api.getConversation().catch((err) => {
            if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 404)) this.sessionLost();
          });
        },
      },
    });
    this.rt.start();
  }

  private async ensureConversation(fields: { name?: string; email?: string }): Promise<void> {
    if (this.api.token) return;
    if (!this.creating) {
      this.creating = (async () => {
        const s = this.opts.settings;
        const identified = !!(s.identifier && s.identifierHash);
        const created = await this.api.createConversation({
          ...(fields.name || s.name ? { name: fields.name || s.name } : {}),
          ...(fields.email || s.email ? { email: fields.email || s.email } : {}),
          ...(identified ? { identifier: s.identifier, identifierHash: s.identifierHash } : {}),
          locale: this.opts.locale,
        });
        this.api.token = created.token;
        this.storage.setSession(created.token, identified ? (s.identifier as string) : null);
        this.startRealtime();
      })().finally(() => {
        this.creating = null;
      });
    }
    return this.creating;
  }

  private listenToPage(): void {
    window.addEventListener(
      'online',
      guard(() => {
        this.rt?.nudge();
        if (this.api.token) this.sender.kick();
        else this.resumeCreation();
      }),
    );
    window.addEventListener(
      'offline',
      guard(() => this.rt?.offline()),
    );
    document.addEventListener(
      'visibilitychange',
      guard(() => {
        if (document.visibilityState !== 'visible') return;
        this.rt?.nudge();
        if (this.api.token) this.sender.kick();
        this.maybeSendRead();
      }),
    );
  }

  // ───────────────────────────── realtime ─────────────────────────────

  private onEvent(e: RealtimeEvent): void {
    if (e.type === 'message.created') {
      const m = e.data;
      if (!m || typeof m.id !== 'string' || m.private) return;
      const isNew = !this.items.some((i) => i.id === m.id);
      this.items = mergeMessages(this.items, [m]);
      if (m.clientMessageId && this.outbox.has(m.clientMessageId)) this.outbox.remove(m.clientMessageId);
      if (m.direction === 'out') {
        this.setAgentTyping(false);
        if (isNew && !this.visibleToVisitor()) {
          this.unread++;
          this.renderBadge();
        }
      }
      this.renderMessages();
      this.maybeSendRead();
    } else if (e.type === 'conversation.read') {
      if (e.data && e.data.by === 'agent') {
        this.setAgentRead(e.data.at);
        this.renderMessages();
      }
    }
    // conversation.updated: the widget keeps accepting messages whatever the status.
  }

  private setAgentRead(at: string | null): void {
    if (!at) return;
    if (!this.agentLastReadAt || Date.parse(at) > Date.parse(this.agentLastReadAt)) this.agentLastReadAt = at;
  }

  private setAgentTyping(on: boolean): void {
    this.agentTyping = on;
    if (this.agentTypingTimer) clearTimeout(this.agentTypingTimer);
    // If the "off" is lost with a dropped socket, don't show "typing" forever.
    this.agentTypingTimer = on ? setTimeout(guard(() => this.setAgentTyping(false)), 8000) : null;
    if (this.typingEl) {
      const wasNearBottom = this.nearBottom();
      this.typingEl.hidden = !on;
      if (on && wasNearBottom) this.scrollToBottom();
    }
  }

  private setConnected(connected: boolean): void {
    this.connected = connected;
    if (this.reconnectingTimer) clearTimeout(this.reconnectingTimer);
    this.reconnectingTimer = null;
    if (connected) {
      this.reconnectingShown = false;
      this.renderStatus();
    } else {
      // Short blips (a reconnect within 2 s) are not worth a flicker in the header.
      this.reconnectingTimer = setTimeout(
        guard(() => {
          this.reconnectingShown = true;
          this.renderStatus();
        }),
        2000,
      );
    }
  }

  private visibleToVisitor(): boolean {
    return this.isOpen && this.view === 'chat' && document.visibilityState === 'visible';
  }

  /** Tells the server the visitor has seen the newest agent message — once per message. */
  private maybeSendRead(): void {
    if (!this.visibleToVisitor()) return;
    if (this.unread) {
      this.unread = 0;
      this.renderBadge();
    }
    const last = lastAgentMessageId(this.items);
    if (!last || last === this.readSentFor || !this.rt) return;
    // Not marked as sent while the socket is down; the next `ready` retries.
    if (this.rt.send({ type: 'read' })) this.readSentFor = last;
  }

  // ───────────────────────────── sending ─────────────────────────────

  private async sendMessage(content: string, attachments: Attachment[] = []): Promise<void> {
    const text = content.trim();
    if (!text && !attachments.length) return;
    const entry: OutboxEntry = {
      clientMessageId: newClientMessageId(),
      content: text,
      attachmentIds: attachments.map((a) => a.id),
      attachments,
      createdAt: new Date().toISOString(),
    };
    // Into the persisted outbox first: from here on the message survives a reload.
    this.outbox.add(entry);
    this.items = upsertPending(this.items, pendingItem(entry));
    this.renderMessages(true);
    this.typing.stop();
    try {
      await this.ensureConversation({});
    } catch (err) {
      this.creationFailed(err);
      return;
    }
    await this.sender.flush();
  }

  private retry(item: ChatItem): void {
    if (!item.clientMessageId) return;
    const entry: OutboxEntry = {
      clientMessageId: item.clientMessageId,
      content: item.content,
      attachmentIds: item.attachments.map((a) => a.id),
      attachments: item.attachments,
      createdAt: item.createdAt,
    };
    this.outbox.add(entry);
    this.items = upsertPending(this.items, pendingItem(entry));
    this.renderMessages();
    if (this.api.token) this.sender.kick();
    else this.resumeCreation();
  }

  private async attach(file: File): Promise<void> {
    if (file.size > MAX_ATTACHMENT_BYTES) {
      this.notice('fileTooLarge', 'error', { name: file.name });
      return;
    }
    this.notice('uploading', 'info', { name: file.name }, 0);
    try {
      await this.ensureConversation({});
      const att = await this.api.uploadAttachment(file);
      if (INLINE_IMAGE_TYPES.includes(att.contentType) && INLINE_IMAGE_TYPES.includes(file.type)) {
        // Show the visitor's own file right away instead of downloading it back.
        this.blobUrls.set(att.id, URL.createObjectURL(file));
      }
      this.clearNotice();
      const text = this.textarea?.value ?? '';
      if (this.textarea) this.textarea.value = '';
      this.autosize();
      await this.sendMessage(text, [att]);
    } catch (err) {
      this.showError(err, 'uploadFailed');
    }
  }

  // ───────────────────────────── DOM: shell ─────────────────────────────

  private mount(): void {
    this.host = document.createElement('parley-widget');
    this.host.setAttribute('data-inbox', this.opts.publicId);
    this.shadow = this.host.attachShadow({ mode: 'open' });
    this.shadow.appendChild(h('style', { text: CSS }));
    this.root = h('div', { class: 'root', attrs: { lang: this.opts.locale } });
    this.badge = h('span', { class: 'badge', attrs: { 'aria-hidden': 'true' } });
    this.badge.hidden = true;
    this.launcher = h('button', { class: 'launcher', attrs: { type: 'button', 'aria-label': this.t('openChat'), 'aria-expanded': 'false' }, on: { click: () => this.toggle() } }, [
      icon(ICONS.chat, 28),
      this.badge,
    ]);
    this.launcher.hidden = true; // until the inbox config is known
    this.titleEl = h('div', { class: 'title' });
    this.dotEl = h('span', { class: 'dot' });
    this.statusEl = h('span');
    this.noticeEl = h('div', { attrs: { role: 'status', 'aria-live': 'polite' } });
    this.content = h('div', { class: 'loading' }, [h('div', { class: 'spinner' })]);
    this.panel = h('div', { class: 'panel', attrs: { role: 'dialog', 'aria-label': 'Chat' } }, [
      h('div', { class: 'header' }, [
        h('div', { class: 'head-text' }, [this.titleEl, h('div', { class: 'status' }, [this.dotEl, this.statusEl])]),
        h('button', { class: 'icon-btn', attrs: { type: 'button', 'aria-label': this.t('closeChat'), title: this.t('closeChat') }, on: { click: () => this.setOpen(false) } }, [
          icon(ICONS.close, 20),
        ]),
      ]),
      this.noticeEl,
      this.content,
    ]);
    this.panel.hidden = true;
    this.panel.addEventListener(
      'keydown',
      guard((ev: KeyboardEvent) => {
        if (ev.key === 'Escape') {
          this.setOpen(false);
          this.launcher.focus();
        }
      }),
    );
    this.root.append(this.panel, this.launcher);
    this.shadow.appendChild(this.root);
    (document.body ?? document.documentElement).appendChild(this.host);
  }

  private applyConfig(config: InboxConfig): void {
    const accent = safeColor(config.color);
    this.root.style.setProperty('--accent', accent);
    this.root.style.setProperty('--on-accent', textColorOn(accent));
    this.root.style.setProperty('--ring', `${accent}33`);
    this.titleEl.textContent = typeof config.name === 'string' ? config.name : '';
    this.titleEl.title = this.titleEl.textContent;
    this.launcher.hidden = false;
    this.renderStatus();
  }

  private renderStatus(): void {
    const config = this.config;
    if (!config) return;
    const reconnecting = this.reconnectingShown && !this.connected && this.view === 'chat' && !!this.api.token;
    this.statusEl.textContent = reconnecting ? this.t('reconnecting') : config.online ? this.t('online') : this.t('away');
    this.dotEl.className = config.online && !reconnecting ? 'dot on' : 'dot';
  }

  private setOpen(open: boolean, animate = true): void {
    if (!this.config) return;
    this.isOpen = open;
    this.panel.hidden = !open;
    // Restoring an open panel after a reload should not replay the opening animation.
    this.panel.classList.toggle('anim', animate);
    this.launcher.classList.toggle('open', open);
    this.launcher.setAttribute('aria-expanded', String(open));
    this.launcher.setAttribute('aria-label', this.t(open ? 'closeChat' : 'openChat'));
    this.launcher.replaceChildren(icon(open ? ICONS.chevronDown : ICONS.chat, open ? 30 : 28), this.badge);
    this.storage.setRaw('open', open ? '1' : '0');
    if (open) {
      this.scrollToBottom();
      this.maybeSendRead();
      const focusable = this.textarea ?? this.content.querySelector<HTMLElement>('input, textarea');
      // Focusing on page load would steal focus from the host page; only on a user action.
      if (focusable && document.activeElement === this.host) focusable.focus();
    }
  }

  private renderBadge(): void {
    this.badge.hidden = this.unread === 0;
    this.badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
    this.launcher.title = this.unread ? this.t('unread', { count: this.unread }) : '';
  }

  private setContent(view: View, el: HTMLElement): void {
    this.view = view;
    this.content.replaceWith(el);
    this.content = el;
    this.bodyEl = this.listEl = this.typingEl = this.textarea = this.sendBtn = null;
    this.clearNotice();
    this.renderStatus();
  }

  // ───────────────────────────── notices ─────────────────────────────

  private notice(key: MessageKey, kind: 'error' | 'info' = 'error', vars?: Record<string, string | number>, ttl = 6000): void {
    const text = this.t(key, vars);
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
    this.noticeEl.replaceChildren(
      h('div', { class: kind === 'info' ? 'notice info' : 'notice' }, [
        h('p', { text }),
        h('button', { attrs: { type: 'button', 'aria-label': this.t('closeChat') }, on: { click: () => this.clearNotice() } }, [icon(ICONS.close, 14)]),
      ]),
    );
    if (ttl > 0) this.noticeTimer = setTimeout(guard(() => this.clearNotice()), ttl);
  }

  private clearNotice(): void {
    if (this.noticeTimer) clearTimeout(this.noticeTimer);
    this.noticeTimer = null;
    this.noticeEl.replaceChildren();
  }

  /**
   * Says what went wrong in the visitor's language, briefly: the server's own message is for the
   * site's developers (reportError puts it in the console), not for visitors.
   */
  private showError(err: unknown, fallback: MessageKey = 'genericError'): void {
    reportError(err);
    if (err instanceof ApiError && err.status === 0) return this.notice('networkError', 'info');
    this.notice((err instanceof ApiError && VISITOR_ERRORS[err.code]) || fallback);
  }

  // ───────────────────────────── views: forms ─────────────────────────────

  private field(name: 'name' | 'email' | 'message', required: boolean, value = ''): { wrap: HTMLElement; input: HTMLInputElement | HTMLTextAreaElement; err: HTMLElement } {
    const id = `parley-${name}`;
    const input =
      name === 'message'
        ? h('textarea', { attrs: { id, name, rows: '4' } })
        : h('input', { attrs: { id, name, type: name === 'email' ? 'email' : 'text', autocomplete: name, ...(name === 'email' ? { inputmode: 'email' } : {}) } });
    input.value = value;
    if (required) input.setAttribute('aria-required', 'true');
    const err = h('div', { class: 'err', attrs: { id: `${id}-err`, 'aria-live': 'polite' } });
    input.setAttribute('aria-describedby', err.id);
    const label = h('label', { attrs: { for: id } }, [this.t(name), required ? null : ' ', required ? null : h('small', { text: this.t('optional') })]);
    return { wrap: h('div', { class: 'field' }, [label, input, err]), input, err };
  }

  /** Validates form fields, marks the invalid ones, focuses the first; returns the values or null. */
  private validate(fields: { name: string; required: boolean; f: ReturnType<ParleyWidget['field']> }[]): Record<string, string> | null {
    const values: Record<string, string> = {};
    let firstBad: HTMLElement | null = null;
    for (const { name, required, f } of fields) {
      const v = f.input.value.trim();
      let error: MessageKey | null = null;
      if (required && !v) error = 'required';
      else if (name === 'email' && v && !isValidEmail(v)) error = 'invalidEmail';
      f.err.textContent = error ? this.t(error) : '';
      f.input.setAttribute('aria-invalid', error ? 'true' : 'false');
      if (error && !firstBad) firstBad = f.input;
      values[name] = v;
    }
    if (firstBad) {
      firstBad.focus();
      return null;
    }
    return values;
  }

  private showPrechat(): void {
    const config = this.config as InboxConfig;
    const s = this.opts.settings;
    const wanted = (Array.isArray(config.prechat?.fields) ? config.prechat.fields : []).filter((f) => f && (f.name === 'name' || f.name === 'email'));
    const fields = wanted.map((w) => ({
      name: w.name,
      required: !!w.required,
      f: this.field(w.name, !!w.required, (w.name === 'name' ? s.name : s.email) ?? ''),
    }));
    const submit = h('button', { class: 'primary', text: this.t('startChat'), attrs: { type: 'submit' } });
    const form = h(
      'form',
      {
        class: 'form prechat',
        attrs: { novalidate: '' },
        on: {
          submit: this.onSubmit(fields, submit, async (values) => {
            await this.ensureConversation({ name: values.name || undefined, email: values.email || undefined });
            this.showChat();
            this.renderMessages(true);
            void this.sender.flush();
          }),
        },
      },
      [config.greeting ? h('h2', { text: config.greeting }) : null, h('p', { class: 'intro', text: this.t('prechatIntro') }), ...fields.map((x) => x.f.wrap), submit],
    );
    this.setContent('prechat', form);
  }

  /** A form's submit: validate, keep the button disabled while `action` runs, show its error. */
  private onSubmit(fields: Parameters<ParleyWidget['validate']>[0], submit: HTMLButtonElement, action: (values: Record<string, string>) => Promise<void>) {
    return async (ev: Event) => {
      ev.preventDefault();
      const values = this.validate(fields);
      if (!values) return;
      submit.disabled = true;
      try {
        await action(values);
      } catch (err) {
        this.showError(err);
      } finally {
        submit.disabled = false;
      }
    };
  }

  private showOffline(): void {
    const s = this.opts.settings;
    const fields = [
      { name: 'name', required: true, f: this.field('name', true, s.name ?? '') },
      { name: 'email', required: true, f: this.field('email', true, s.email ?? '') },
      { name: 'message', required: true, f: this.field('message', true) },
    ];
    const submit = h('button', { class: 'primary', text: this.t('sendMessage'), attrs: { type: 'submit' } });
    const form = h(
      'form',
      {
        class: 'form offline',
        attrs: { novalidate: '' },
        on: {
          submit: this.onSubmit(fields, submit, async (values) => {
            await this.api.sendOfflineMessage({ name: values.name ?? '', email: values.email ?? '', message: values.message ?? '' });
            this.setContent('offline-sent', h('div', { class: 'done offline-sent' }, [icon(ICONS.check, 48), h('p', { text: this.t('offlineThanks') })]));
          }),
        },
      },
      [h('h2', { text: this.t('offlineTitle') }), h('p', { class: 'intro', text: this.t('offlineIntro') }), ...fields.map((x) => x.f.wrap), submit],
    );
    this.setContent('offline', form);
  }

  // ───────────────────────────── views: chat ─────────────────────────────

  private showChat(): void {
    if (this.view === 'chat') return;
    const list = h('div', { class: 'list', attrs: { role: 'log', 'aria-live': 'polite' } });
    const body = h('div', { class: 'body' }, [list]);
    const typingEl = h('div', { class: 'typing' }, [h('span', { class: 'dots' }, [h('i'), h('i'), h('i')]), this.t('someoneTyping')]);
    typingEl.hidden = !this.agentTyping;
    const textarea = h('textarea', { attrs: { rows: '1', placeholder: this.t('composerPlaceholder'), 'aria-label': this.t('message') } });
    const file = h('input', { attrs: { type: 'file', hidden: '', tabindex: '-1' } });
    const sendBtn = h('button', { class: 'icon-btn send', attrs: { type: 'submit', 'aria-label': this.t('send'), title: this.t('send') } }, [icon(ICONS.send, 20)]);
    sendBtn.disabled = true;
    file.addEventListener(
      'change',
      guard(async () => {
        const f = file.files?.[0];
        file.value = '';
        if (f) await this.attach(f);
      }),
    );
    textarea.addEventListener(
      'input',
      guard(() => {
        this.autosize();
        sendBtn.disabled = !textarea.value.trim();
        if (textarea.value.trim()) this.typing.keystroke();
        else this.typing.stop();
      }),
    );
    textarea.addEventListener(
      'keydown',
      guard((ev: KeyboardEvent) => {
        // Enter sends, Shift+Enter is a new line; never during IME composition.
        if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
          ev.preventDefault();
          composer.requestSubmit ? composer.requestSubmit() : submit();
        }
      }),
    );
    const submit = async (): Promise<void> => {
      const text = textarea.value;
      if (!text.trim()) return;
      textarea.value = '';
      sendBtn.disabled = true;
      this.autosize();
      await this.sendMessage(text);
    };
    const composer = h(
      'form',
      {
        class: 'composer',
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            await submit();
          },
        },
      },
      [
        h('button', { class: 'icon-btn attach', attrs: { type: 'button', 'aria-label': this.t('attach'), title: this.t('attach') }, on: { click: () => file.click() } }, [icon(ICONS.attach, 22)]),
        file,
        textarea,
        sendBtn,
      ],
    );
    const chat = h('div', { class: 'chat', attrs: { style: 'display:flex;flex-direction:column;flex:1;min-height:0' } }, [body, typingEl, composer]);
    this.setContent('chat', chat);
    this.bodyEl = body;
    this.listEl = list;
    this.typingEl = typingEl;
    this.textarea = textarea;
    this.sendBtn = sendBtn;
    this.rowCache.clear();
    this.renderMessages(true);
    if (this.isOpen && document.activeElement === this.host) textarea.focus();
  }

  private autosize(): void {
    const ta = this.textarea;
    if (!ta) return;
    ta.style.height = 'auto';
    ta.style.height = `${Math.min(ta.scrollHeight + 2, 120)}px`;
  }

  private nearBottom(): boolean {
    const b = this.bodyEl;
    return !b || b.scrollHeight - b.scrollTop - b.clientHeight < 80;
  }

  private scrollToBottom(): void {
    if (this.bodyEl) this.bodyEl.scrollTop = this.bodyEl.scrollHeight;
  }

  /** Keyed re-render: rows whose content did not change keep their DOM node (and loaded images). */
  private renderMessages(forceScroll = false): void {
    const list = this.listEl;
    if (!list) return;
    const stick = forceScroll || this.nearBottom();
    const rows: HTMLElement[] = [];
    const greeting = this.config?.greeting;
    if (greeting && this.view === 'chat') rows.push(this.row('greeting', 'greeting', () => h('div', { class: 'row out' }, [h('div', { class: 'bubble', text: greeting })])));

    const lastMine = lastVisitorMessage(this.items);
    const read = isReadByAgent(lastMine, this.agentLastReadAt);
    let prevSender: string | null = null;
    const seen = new Set<string>();
    for (const item of this.items) {
      seen.add(item.key);
      const senderLabel = item.direction === 'out' && item.senderType !== 'system' ? item.senderName || this.t('agent') : null;
      const showSender = senderLabel !== null && senderLabel !== prevSender;
      prevSender = item.direction === 'out' ? senderLabel : null;
      const meta = item.state === 'sending' ? 'sending' : item.state === 'failed' ? 'failed' : item === lastMine && read ? 'read' : '';
      const sig = [item.id, item.state, item.content, item.attachments.map((a) => a.id).join(','), showSender ? senderLabel : '', meta].join('\u0000');
      rows.push(this.row(item.key, sig, () => this.buildRow(item, showSender ? senderLabel : null, meta)));
    }
    for (const key of this.rowCache.keys()) if (key !== 'greeting' && !seen.has(key)) this.rowCache.delete(key);
    rows.forEach((el, i) => {
      if (list.children[i] !== el) list.insertBefore(el, list.children[i] ?? null);
    });
    while (list.children.length > rows.length) list.lastElementChild?.remove();
    if (stick) this.scrollToBottom();
  }

  private row(key: string, sig: string, build: () => HTMLElement): HTMLElement {
    const cached = this.rowCache.get(key);
    if (cached && cached.sig === sig) return cached.el;
    const el = build();
    if (cached) cached.el.replaceWith(el);
    this.rowCache.set(key, { sig, el });
    return el;
  }

  private buildRow(item: ChatItem, sender: string | null, meta: string): HTMLElement {
    const kind = item.senderType === 'system' ? 'system' : item.direction === 'in' ? 'in' : 'out';
    const cls = `row ${kind}${item.state === 'sending' ? ' pending' : item.state === 'failed' ? ' failed' : ''}`;
    // A message that is only a picture or a file gets no bubble around it.
    const bubble = h('div', { class: item.content ? 'bubble' : 'bubble media' });
    if (item.content) for (const seg of linkify(item.content)) {
      bubble.appendChild(
        seg.kind === 'text' ? document.createTextNode(seg.text) : h('a', { text: seg.text, attrs: { href: seg.href, target: '_blank', rel: 'noopener noreferrer nofollow ugc' } }),
      );
    }
    if (item.attachments.length) bubble.appendChild(h('div', { class: 'atts' }, item.attachments.map((a) => this.attachmentEl(a))));
    const time = Date.parse(item.createdAt);
    if (Number.isFinite(time)) bubble.title = new Date(time).toLocaleString(this.opts.locale);
    const row = h('div', { class: cls, attrs: { 'data-key': item.key, ...(item.id ? { 'data-id': item.id } : {}) } }, [sender ? h('div', { class: 'sender', text: sender }) : null, bubble]);
    if (meta === 'sending') row.appendChild(h('div', { class: 'meta', text: this.t('sending') }));
    else if (meta === 'read') row.appendChild(h('div', { class: 'meta read', text: this.t('read') }));
    else if (meta === 'failed')
      row.appendChild(
        h('div', { class: 'meta failed' }, [
          this.t('notSent'),
          h('button', { class: 'link-btn', text: this.t('retry'), attrs: { type: 'button' }, on: { click: () => this.retry(item) } }),
        ]),
      );
    return row;
  }

  private attachmentEl(a: Attachment): HTMLElement {
    const name = typeof a.filename === 'string' && a.filename ? a.filename : 'file';
    const download = (): Promise<void> => this.download(a, name);
    if (INLINE_IMAGE_TYPES.includes(a.contentType)) {
      const img = h('img', { attrs: { alt: name } });
      const btn = h('button', { class: 'thumb', attrs: { type: 'button', title: this.t('download', { name }) }, on: { click: download } }, [img]);
      img.addEventListener(
        'load',
        guard(() => {
          if (this.nearBottom() || this.bodyEl?.scrollTop === 0) this.scrollToBottom();
        }),
      );
      void this.imageUrl(a)
        .then((url) => {
          img.src = url;
        })
        .catch(() => {
          // Unreadable image: fall back to a download chip.
          btn.replaceWith(this.fileChip(name, a.size, download));
        });
      return btn;
    }
    return this.fileChip(name, a.size, download);
  }

  private fileChip(name: string, size: number, onClick: () => Promise<void>): HTMLElement {
    return h('button', { class: 'file', attrs: { type: 'button', title: this.t('download', { name }) }, on: { click: onClick } }, [
      icon(ICONS.file, 18),
      h('span', { text: name }),
      h('small', { text: formatSize(size) }),
    ]);
  }

  /** Fetches an image with the visitor token into a blob URL, typed as the allowed image type. */
  private async imageUrl(a: Attachment): Promise<string> {
    const cached = this.blobUrls.get(a.id);
    if (cached) return cached;
    const blob = await this.api.fetchAttachment(a.id);
    const url = URL.createObjectURL(new Blob([blob], { type: a.contentType }));
    this.blobUrls.set(a.id, url);
    return url;
  }

  /**
   * Saves a file. The blob is re-typed as application/octet-stream: a blob URL has the host
   * page's origin, and an HTML or SVG file opened from it would run in that origin.
   */
  private async download(a: Attachment, name: string): Promise<void> {
    try {
      const blob = await this.api.fetchAttachment(a.id);
      const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }));
      const link = h('a', { attrs: { href: url, download: name, rel: 'noopener' } });
      link.hidden = true;
      this.root.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
    } catch (err) {
      this.showError(err);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
