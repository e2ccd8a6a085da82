import { memo } from 'react';
import type { Message } from '../api/types';
import { splitMentions } from '../composer/triggers';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';
import { AttachmentView } from './AttachmentView';
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

export const MessageItem = memo(function MessageItem({ message: m, seen }: { message: Message; seen: boolean }) {
  const { t, formatDateTime, formatClock } = useI18n();
  if (m.senderType === 'system') {
    return <div className="msg-system" data-message-id={m.id}><span>{m.content}</span></div>;
  }
  const kind = m.private ? 'note' : m.direction === 'in' ? 'in' : 'out';
  const time = formatClock(m.createdAt);
  const pending = isLocalId(m.id) && m.status !== 'failed';
  return (
    <div className={`msg msg-${kind}${pending ? ' pending' : ''}`} data-message-id={m.id} data-kind={kind}>
      <div className="msg-bubble">
        {m.private && (
          <div className="msg-note-tag"><Icon name="lock" size={12} /> {t('message.privateNote')}</div>
        )}
        <MessageText content={m.content} mentions={m.mentions} />
        {m.attachments.length > 0 && (
          <div className="msg-attachments">
            {m.attachments.map((a) => <AttachmentView key={a.id} attachment={a} />)}
          </div>
        )}
      </div>
      <div className="msg-meta" title={formatDateTime(m.createdAt)}>
        {m.direction === 'out' && m.senderName && <span>{m.senderName} · </span>}
        <time dateTime={m.createdAt}>{time}</time>
        {m.status === 'failed' && <span className="msg-failed"> · {t('message.failed')}</span>}
        {pending && <span> · {t('message.sending')}</span>}
        {seen && <span className="msg-seen"> · {t('message.seen')}</span>}
      </div>
    </div>
  );
});
