import { Fragment, useEffect, useLayoutEffect, useRef, useState, type MutableRefObject } from 'react';
import { api, ApiError } from '../api/client';
import { errorText } from '../i18n/error-text';
import { routeHref } from '../app/hash-route';
import type { Conversation, Message } from '../api/types';
import { useDocumentVisible } from '../app/use-document-visible';
import { useI18n } from '../i18n/i18n';
import { Composer } from './Composer';
import { ContactPanel } from './ContactPanel';
import { ConversationHeader } from './ConversationHeader';
import { MessageItem } from './MessageItem';
import { contactDisplayName, useWorkspace } from './workspace-store';

export interface ComposerHandle {
  focus: (mode: 'reply' | 'note') => void;
  openCanned: () => void;
}

export function ConversationView({ conversationId, composerRef }: {
  conversationId: string;
  composerRef: MutableRefObject<ComposerHandle | null>;
}) {
  const { t } = useI18n();
  const { state, loadConversation, loadOlderMessages, dispatch } = useWorkspace();
  const [error, setError] = useState<string | null>(null);
  const [hasOlder, setHasOlder] = useState(false);
  const conversation = state.conversations[conversationId];
  const messages = state.messages[conversationId];
  const typing = state.typing[conversationId] ?? false;
  const visible = useDocumentVisible();

  useEffect(() => {
    setError(null);
    loadConversation(conversationId).catch((err) =>
      setError(err instanceof ApiError && err.status === 404 ? t('conversation.notFound') : errorText(t, err)),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conversationId, loadConversation]);

  useEffect(() => {
    if (messages && messages.length >= 50 && !hasOlder) setHasOlder(true);
    // Only the first page decides; later pages update hasOlder in loadOlder().
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [messages === undefined]);

  // Mark read when the conversation is opened and whenever something new arrives while visible.
  const unread = conversation?.unreadCount ?? 0;
  const lastId = messages?.[messages.length - 1]?.id;
  const markedFor = useRef<string | null>(null);
  useEffect(() => {
    if (!visible || !conversation || !messages) return;
    const last = messages[messages.length - 1];
    const key = lastId ?? '';
    const needed = markedFor.current === null || unread > 0 || (key !== markedFor.current && last?.direction === 'in');
    markedFor.current = key;
    if (!needed) return;
    dispatch({ type: 'markedRead', conversationId });
    api.markRead(conversationId).catch(() => undefined);
  }, [visible, unread, lastId, conversationId, conversation, messages, dispatch]);

  if (!conversation) {
    return (
      <section className="conv-pane">
        <div className="empty-state">
          {error ? (
            <>
              <p className="form-error">{error}</p>
              <a className="btn btn-sm" href={routeHref({ name: 'conversations', conversationId: null })}>{t('conversation.backToInbox')}</a>
            </>
          ) : <p className="muted">{t('common.loading')}</p>}
        </div>
      </section>
    );
  }

  return (
    <>
      <section className="conv-pane" aria-label={contactDisplayName(conversation.contact, t('contact.anonymous'))}>
        <ConversationHeader conversation={conversation} />
        <MessageList conversation={conversation} messages={messages} typing={typing} hasOlder={hasOlder}
          onLoadOlder={async () => setHasOlder(await loadOlderMessages(conversationId))} />
        <Composer conversation={conversation} handleRef={composerRef} />
      </section>
      <ContactPanel conversation={conversation} />
    </>
  );
}

function dayKey(iso: string): string {
  return new Date(iso).toDateString();
}

function MessageList({ conversation, messages, typing, hasOlder, onLoadOlder }: {
  conversation: Conversation;
  messages: Message[] | undefined;
  typing: boolean;
  hasOlder: boolean;
  onLoadOlder: () => Promise<void>;
}) {
  const { t, locale } = useI18n();
  const { inboxes } = useWorkspace();
  const ref = useRef<HTMLDivElement>(null);
  // Web chat replies are shown "Seen" by the widget; channel replies have a provider's delivery status.
  const channel = conversation.channelType ?? inboxes.find((i) => i.id === conversation.inboxId)?.channelType;
  const showDelivery = channel !== undefined && channel !== 'webchat' && channel !== 'api';
  const stick = useRef(true);
  const count = messages?.length ?? 0;

  const onScroll = () => {
    const el = ref.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
  };

  // Follow new messages when the agent is at the bottom; do not yank them while reading history.
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [count, typing]);

  if (!messages) return <div className="messages"><p className="muted center">{t('common.loading')}</p></div>;

  const dayFormat = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
  // "Seen" goes under the last outgoing reply the contact has read.
  const readAt = conversation.contactLastReadAt ? Date.parse(conversation.contactLastReadAt) : null;
  let seenId: string | null = null;
  if (readAt !== null) {
    for (const m of messages) if (m.direction === 'out' && !m.private && Date.parse(m.createdAt) <= readAt) seenId = m.id;
  }

  let prevDay = '';
  return (
    <div className="messages" ref={ref} onScroll={onScroll} role="log" aria-live="polite" aria-label={t('conversation.messages')}>
      {hasOlder && (
        <div className="center">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => void onLoadOlder()}>{t('conversation.loadOlder')}</button>
        </div>
      )}
      {messages.length === 0 && <p className="muted center">{t('conversation.noMessages')}</p>}
      {messages.map((m) => {
        const day = dayKey(m.createdAt);
        const separator = day !== prevDay ? <div className="day-sep"><span>{dayFormat.format(new Date(m.createdAt))}</span></div> : null;
        prevDay = day;
        // Keyed by message — by the composer's id while it has one, so the server's copy replacing the
        // optimistic one, or a message arriving above, does not remount it (and reload its images).
        return (
          <Fragment key={m.clientMessageId ? `c-${m.clientMessageId}` : m.id}>
            {separator}
            <MessageItem message={m} seen={m.id === seenId} showDelivery={showDelivery} email={channel === 'email'} />
          </Fragment>
        );
      })}
      {typing && (
        <div className="typing" aria-live="polite">
          <span className="typing-dots"><i /><i /><i /></span>
          {t('conversation.typing', { name: contactDisplayName(conversation.contact, t('contact.anonymous')) })}
        </div>
      )}
    </div>
  );
}
