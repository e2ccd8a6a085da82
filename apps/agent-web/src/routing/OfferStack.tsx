import { useEffect, useRef, useState } from 'react';
import { ApiError } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Conversation, Offer } from '../api/types';
import { useI18n, type MessageKey } from '../i18n/i18n';
import { openOffers } from '../realtime/inbox-state';
import { Avatar } from '../ui/Avatar';
import { Icon, type IconName } from '../ui/Icon';
import { isTypingTarget } from '../workspace/Workspace';
import { contactDisplayName, useWorkspace } from '../workspace/workspace-store';
import { formatCountdown, formatElapsed, remainingFraction } from './time-format';
import { useNow } from './use-now';

export const channelLabel: Record<string, MessageKey> = {
  chat: 'channel.chat', email: 'channel.email', sms: 'channel.sms', social: 'channel.social', voice: 'channel.voice', task: 'channel.task',
};
export const channelIcon: Record<string, IconName> = {
  chat: 'message', email: 'mail', sms: 'message', social: 'message', voice: 'phone', task: 'file',
};

/**
 * Incoming work offered to me (CC-4): one card per open offer with a countdown to its expiry,
 * Accept (opens the conversation) and Decline. Alt+A / Alt+X answer the first one from anywhere,
 * Enter accepts it when no field or button has the focus.
 */
export function OfferStack() {
  const { t } = useI18n();
  const { state, acceptOffer, declineOffer, clockSkewMs } = useWorkspace();
  const offers = openOffers(state);
  // On the server's clock, which set expiresAt.
  const now = useNow(250, offers.length > 0) - clockSkewMs;
  const live = offers.filter((o) => Date.parse(o.expiresAt) > now);
  const first = live[0];
  const handlers = useRef({ first, acceptOffer, declineOffer });
  handlers.current = { first, acceptOffer, declineOffer };
  const [pending, setPending] = useState<Record<string, 'accept' | 'decline'>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [notice, setNotice] = useState<string | null>(null);
  const noticeTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const showNotice = (text: string) => {
    setNotice(text);
    if (noticeTimer.current) clearTimeout(noticeTimer.current);
    noticeTimer.current = setTimeout(() => setNotice(null), 4000);
  };
  useEffect(() => () => {
    if (noticeTimer.current) clearTimeout(noticeTimer.current);
  }, []);

  const run = (offer: Offer, kind: 'accept' | 'decline') => {
    if (pending[offer.id]) return;
    setPending((p) => ({ ...p, [offer.id]: kind }));
    setErrors(({ [offer.id]: _old, ...rest }) => rest);
    const call = kind === 'accept' ? acceptOffer(offer.id) : declineOffer(offer.id);
    call.catch((err) => {
      // Taken, expired or revoked meanwhile: the card is gone, so say why in its place for a moment.
      if (err instanceof ApiError && [403, 404, 409, 410].includes(err.status)) showNotice(t('offer.gone'));
      else setErrors((e) => ({ ...e, [offer.id]: errorText(t, err) }));
    }).finally(() => setPending(({ [offer.id]: _done, ...rest }) => rest));
  };
  const runRef = useRef(run);
  runRef.current = run;

  useEffect(() => {
    // Capture phase: Alt+A / Alt+X must win over the composer while the agent is typing.
    const onKey = (e: KeyboardEvent) => {
      const offer = handlers.current.first;
      if (!offer || e.ctrlKey || e.metaKey) return;
      let kind: 'accept' | 'decline' | null = null;
      if (e.altKey && !e.shiftKey && e.code === 'KeyA') kind = 'accept';
      else if (e.altKey && !e.shiftKey && e.code === 'KeyX') kind = 'decline';
      else if (!e.altKey && !e.shiftKey && e.key === 'Enter' && !isTypingTarget(e.target) && !isControl(e.target)) kind = 'accept';
      if (!kind) return;
      e.preventDefault();
      e.stopPropagation();
      runRef.current(offer, kind);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, []);

  if (live.length === 0 && !notice) return null;
  return (
    <div className="offer-stack" aria-live="assertive">
      {notice && <div className="offer-notice" role="status">{notice}</div>}
      {live.map((o, i) => (
        <OfferCard key={o.id} offer={o} now={now} first={i === 0} conversation={state.conversations[o.conversationId]}
          waitingSince={state.routing[o.conversationId]?.waitingSince ?? null}
          pending={pending[o.id] ?? null} error={errors[o.id] ?? null}
          onAccept={() => run(o, 'accept')} onDecline={() => run(o, 'decline')} />
      ))}
    </div>
  );
}

function isControl(target: EventTarget | null): boolean {
  return target instanceof HTMLElement && (target.tagName === 'BUTTON' || target.tagName === 'A' || target.tagName === 'SUMMARY');
}

function OfferCard({ offer, conversation, waitingSince, now, first, pending, error, onAccept, onDecline }: {
  offer: Offer;
  conversation: Conversation | undefined;
  waitingSince: string | null;
  now: number;
  first: boolean;
  pending: 'accept' | 'decline' | null;
  error: string | null;
  onAccept: () => void;
  onDecline: () => void;
}) {
  const { t } = useI18n();
  const { queues } = useWorkspace();
  const expiresAt = Date.parse(offer.expiresAt);
  const left = expiresAt - now;
  const fraction = remainingFraction(now, Date.parse(offer.createdAt), expiresAt);
  const name = conversation ? contactDisplayName(conversation.contact, t('contact.anonymous')) : t('contact.anonymous');
  const queue = queues.find((q) => q.id === offer.queueId);
  // Waiting since the conversation entered routing; the conversation's start is the fallback.
  const since = waitingSince ?? conversation?.createdAt ?? offer.createdAt;
  const preview = conversation?.lastMessage?.content;
  const channel = channelLabel[offer.channel] ?? 'channel.task';
  const urgent = left <= 10_000;

  return (
    <section className={`offer-card${urgent ? ' urgent' : ''}`} role="alertdialog" aria-label={t('offer.title', { channel: t(channel) })}
      data-offer-id={offer.id} data-conversation-id={offer.conversationId}>
      <header className="offer-head">
        <span className="offer-channel"><Icon name={channelIcon[offer.channel] ?? 'message'} size={15} /></span>
        <span className="offer-title">{t('offer.title', { channel: t(channel) })}</span>
        <span className="offer-countdown mono" aria-label={t('offer.expiresIn', { time: formatCountdown(left) })}>{formatCountdown(left)}</span>
      </header>
      <div className="offer-bar" aria-hidden="true"><span style={{ width: `${(fraction * 100).toFixed(1)}%` }} /></div>
      <div className="offer-body">
        <Avatar name={name} seed={conversation?.contact.id ?? offer.conversationId} size={38} />
        <div className="offer-who">
          <div className="offer-name">{name}</div>
          {conversation?.contact.email && <div className="muted small">{conversation.contact.email}</div>}
          <div className="offer-meta small">
            {queue && <span className="offer-queue"><Icon name="inbox" size={12} /> {queue.name}</span>}
            <span className="offer-wait"><Icon name="clock" size={12} /> {t('offer.waiting', { time: formatElapsed(now - Date.parse(since)) })}</span>
          </div>
        </div>
      </div>
      {preview && <p className="offer-preview">{preview}</p>}
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="offer-actions">
        <button type="button" className="btn btn-sm offer-decline" onClick={onDecline} disabled={pending !== null}>
          {t('offer.decline')}{first && <kbd>Alt+X</kbd>}
        </button>
        <button type="button" className="btn btn-sm btn-success offer-accept" onClick={onAccept} disabled={pending !== null}>
          <Icon name="check" size={15} /> {pending === 'accept' ? t('offer.accepting') : t('offer.accept')}{first && <kbd>Alt+A</kbd>}
        </button>
      </div>
    </section>
  );
}
