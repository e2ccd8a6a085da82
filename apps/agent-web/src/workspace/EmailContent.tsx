import { useEffect, useRef, useState, type ReactNode } from 'react';
import { api } from '../api/client';
import type { ChannelMessage } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';

// A message's channel side never changes once received: asked for once per page.
const channelMessages = new Map<string, Promise<ChannelMessage>>();

export function channelMessage(messageId: string): Promise<ChannelMessage> {
  let p = channelMessages.get(messageId);
  if (!p) {
    p = api.messageChannel(messageId);
    channelMessages.set(messageId, p);
    p.catch(() => channelMessages.delete(messageId));
  }
  return p;
}

export function useChannelMessage(messageId: string, enabled: boolean): ChannelMessage | null {
  const [loaded, setLoaded] = useState<ChannelMessage | null>(null);
  useEffect(() => {
    if (!enabled) return;
    let cancelled = false;
    channelMessage(messageId).then((c) => !cancelled && setLoaded(c), () => undefined);
    return () => {
      cancelled = true;
    };
  }, [messageId, enabled]);
  return loaded;
}

export type SenderVerdict = 'verified' | 'forwarded' | 'suspicious' | 'unverified';

/**
 * What the agent is told about who sent an email. DMARC decides: it passes only when SPF or
 * DKIM passed for the domain in From; a failure is what a forged From looks like, unless a
 * trusted mailing list or forwarder vouched by its ARC seal that it passed when the message
 * reached it (its footer or its servers are what failed here). Without a DMARC result (no
 * policy published, DNS unreachable) the sender is unverified.
 */
export function senderVerdict(auth: Record<string, string>): SenderVerdict {
  if (auth.dmarc === 'pass') return 'verified';
  if (auth.dmarc === 'fail') return auth.arcVouchedBy ? 'forwarded' : 'suspicious';
  return 'unverified';
}

function SenderAuthentication({ auth }: { auth: Record<string, string> }) {
  const { t } = useI18n();
  const verdict = senderVerdict(auth);
  const results = t('email.sender.results', {
    spf: auth.spf ?? 'none',
    dkim: auth.dkimDomain ? `${auth.dkim ?? 'none'} (${auth.dkimDomain})` : (auth.dkim ?? 'none'),
    dmarc: auth.dmarc ?? 'none',
    by: auth.checkedBy ?? '?',
  }) + (auth.arc ? ` · ARC ${auth.arc}${auth.arcSealer ? ` (${auth.arcSealer})` : ''}` : '');
  return (
    <div className={`email-auth email-auth-${verdict}`} data-verdict={verdict} title={results} role={verdict === 'suspicious' ? 'alert' : undefined}>
      <span className="email-auth-verdict"><Icon name={verdict === 'suspicious' ? 'alert' : 'shield'} size={12} />{t(`email.sender.${verdict}`, { by: auth.arcVouchedBy ?? '' })}</span>
      <span className="email-auth-results">{results}</span>
    </div>
  );
}

/**
 * The sanitized HTML of an email, in a frame that runs no script (sandbox without
 * allow-scripts; the server already removed every script) and loads nothing from elsewhere
 * until the agent asks: its Content-Security-Policy allows this app's own images (inline
 * `cid:` images are stored attachments) and, after "Load remote images", remote ones.
 */
function EmailHtmlFrame({ html, remote }: { html: string; remote: boolean }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const [height, setHeight] = useState(120);
  const body = remote ? html.replace(/\sdata-remote-src="/g, ' src="') : html;
  const srcDoc =
    `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' data:${remote ? ' https: http:' : ''}; style-src 'unsafe-inline'">` +
    `<base target="_blank"><style>body{margin:8px;font:14px/1.45 system-ui,sans-serif;color:#1f2328;overflow-wrap:anywhere}img{max-width:100%;height:auto}table{max-width:100%}</style></head><body>${body}</body></html>`;
  const fit = () => {
    const doc = frame.current?.contentDocument;
    if (doc?.body) setHeight(Math.min(Math.max(doc.documentElement.scrollHeight, 40), 640));
  };
  return (
    <iframe ref={frame} className="email-html" title="email" srcDoc={srcDoc} onLoad={fit} style={{ height }}
      sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox" referrerPolicy="no-referrer" />
  );
}

/**
 * An email as the customer sent it: subject and sender authentication above the text, and the
 * original formatting on request. `children` is the plain text shown otherwise.
 */
export function EmailContent({ messageId, children }: { messageId: string; children: ReactNode }) {
  const { t } = useI18n();
  const email = useChannelMessage(messageId, true);
  const [formatted, setFormatted] = useState(false);
  const [remote, setRemote] = useState(false);
  const remoteImages = email?.html ? (email.html.match(/\sdata-remote-src="/g) ?? []).length : 0;
  return (
    <div className="email-content" data-testid="email-content">
      {email?.subject && <div className="email-subject">{email.subject}</div>}
      {email?.details.authentication && <SenderAuthentication auth={email.details.authentication} />}
      {formatted && email?.html ? <EmailHtmlFrame html={email.html} remote={remote} /> : children}
      {email?.html && (
        <div className="email-actions">
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setFormatted((f) => !f)} aria-pressed={formatted}>
            {t(formatted ? 'email.showText' : 'email.showFormatted')}
          </button>
          {formatted && remoteImages > 0 && !remote && (
            <button type="button" className="btn btn-ghost btn-sm" onClick={() => setRemote(true)}>{t('email.loadImages', { count: remoteImages })}</button>
          )}
        </div>
      )}
    </div>
  );
}
