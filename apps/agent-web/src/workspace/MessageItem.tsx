import { memo } from 'react';
import { DELIVERY_STATUSES, type Message } from '../api/types';
import { splitMentions } from '../composer/triggers';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';
import { AttachmentView } from './AttachmentView';
import { EmailContent, useChannelMessage } from './EmailContent';
import { isLocalId } from '../realtime/inbox-state';
import { useWorkspace } from './workspace-store';

/** Content is rendered as React text only: visitor HTML or script stays visible text. */
function MessageText({ content, mentions }: { content: string; mentions: string[] }) {
  const { users } = useWorkspace();
  if (!content) return null;
  const segments = splitMentions(content, users);
  return (
    <div className="msg-text">
      {segments.map((s, i) =>
        s.kind === 'mention'
          ? <span key={i} className={`mention${mentions.includes(s.userId) ? ' resolved' : ''}`} data-user-id={s.userId}>{s.text}</span>
          : <span key={i}>{s.text}</span>,
      )}
    </div>
  );
}

const DELIVERY_ICONS = { queued: 'clock', sent: 'check', delivered: 'check', read: 'check', failed: 'alert' } as const;

/** Where a reply stands with the channel (queued → sent → delivered → read, or failed). */
function DeliveryStatus({ message: m }: { message: Message }) {
  const { t } = useI18n();
  const status = (DELIVERY_STATUSES as readonly string[]).includes(m.status) ? (m.status as (typeof DELIVERY_STATUSES)[number]) : null;
  if (!status || status === 'failed') return null;
  return (
    <>
      {' · '}
      <span className={`delivery delivery-${status}`} data-delivery={status}>
        <Icon name={DELIVERY_ICONS[status]} size={11} /> {t(`delivery.${status}`)}
      </span>
    </>
  );
}

/** The reason a reply failed: on the message when the server sends it, else asked of its channel details once. */
function useFailureReason(m: Message): string | null {
  const channel = useChannelMessage(m.id, m.status === 'failed' && !m.error && !isLocalId(m.id));
  return m.error ?? channel?.error ?? null;
}

export const MessageItem = memo(function MessageItem({ message: m, seen, showDelivery = false, email = false }: {
  message: Message;
  seen: boolean;
  showDelivery?: boolean;
  /** The conversation is an email thread: a customer's message shows its subject, sender check and formatting. */
  email?: boolean;
}) {
  const { t, formatDateTime, formatClock } = useI18n();
  if (m.senderType === 'system') {
    return <div className="msg-system" data-message-id={m.id}><span>{m.content}</span></div>;
  }
  const kind = m.private ? 'note' : m.direction === 'in' ? 'in' : 'out';
  const time = formatClock(m.createdAt);
  const pending = isLocalId(m.id) && m.status !== 'failed';
  const failed = m.status === 'failed';
  const reason = useFailureReason(m);
  return (
    <div className={`msg msg-${kind}${pending ? ' pending' : ''}${failed ? ' msg-send-failed' : ''}`} data-message-id={m.id} data-kind={kind}
      data-status={pending ? 'sending' : m.status}>
      <div className="msg-bubble">
        {m.private && (
          <div className="msg-note-tag"><Icon name="lock" size={12} /> {t('message.privateNote')}</div>
        )}
        {email && m.direction === 'in' && !m.private && !isLocalId(m.id)
          ? <EmailContent messageId={m.id}><MessageText content={m.content} mentions={m.mentions} /></EmailContent>
          : <MessageText content={m.content} mentions={m.mentions} />}
        {m.attachments.length > 0 && (
          <div className="msg-attachments">
            {m.attachments.map((a) => <AttachmentView key={a.id} attachment={a} />)}
          </div>
        )}
      </div>
      <div className="msg-meta" title={formatDateTime(m.createdAt)}>
        {m.direction === 'out' && m.senderName && <span>{m.senderName} · </span>}
        <time dateTime={m.createdAt}>{time}</time>
        {failed && !showDelivery && <span className="msg-failed"> · {t('message.failed')}</span>}
        {pending && <span> · {t('message.sending')}</span>}
        {showDelivery && !pending && m.direction === 'out' && !m.private && <DeliveryStatus message={m} />}
        {seen && <span className="msg-seen"> · {t('message.seen')}</span>}
      </div>
      {failed && showDelivery && (
        <div className="msg-failure" role="alert" data-testid="send-failure">
          <Icon name="alert" size={12} /> {reason ? t('delivery.failedReason', { reason }) : t('delivery.failed')}
        </div>
      )}
    </div>
  );
});
