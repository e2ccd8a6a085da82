import type { SlaClock, SlaDueView, SlaStatus } from '../api/types';
import { useI18n, type MessageKey } from '../i18n/i18n';
import { Icon } from '../ui/Icon';
import { effectiveSlaStatus, pickSlaBadge } from './sla-view';
import { formatSpan } from './time-format';

const clockLabel: Record<SlaClock, MessageKey> = {
  'first-response': 'sla.firstResponse',
  'next-response': 'sla.nextResponse',
  resolution: 'sla.resolution',
};

function Badge({ clock, dueAt, status, now }: { clock: SlaClock; dueAt: string; status: SlaStatus; now: number }) {
  const { t, formatDateTime } = useI18n();
  const left = Date.parse(dueAt) - now;
  const name = t(clockLabel[clock]);
  const text = status === 'breached'
    ? t('sla.overdue', { clock: name, time: formatSpan(left) })
    : t('sla.dueIn', { clock: name, time: formatSpan(left) });
  return (
    <span className={`sla sla-${status}`} data-sla={status} data-clock={clock}
      title={`${t(`sla.status.${status}`)} — ${t('sla.dueAt', { clock: name, when: formatDateTime(dueAt) })}`}>
      <Icon name={status === 'breached' ? 'flag' : 'clock'} size={12} />
      {text}
    </span>
  );
}

/** The most urgent running SLA clock of a conversation (list rows). */
export function SlaBadge({ clocks, now }: { clocks: readonly SlaDueView[] | undefined; now: number }) {
  const badge = pickSlaBadge(clocks, now);
  if (!badge) return null;
  return <Badge clock={badge.clock} dueAt={badge.dueAt} status={badge.status} now={now} />;
}

/** Every running SLA clock of a conversation (conversation header). */
export function SlaBadges({ clocks, now }: { clocks: readonly SlaDueView[] | undefined; now: number }) {
  if (!clocks || clocks.length === 0) return null;
  const order: SlaClock[] = ['first-response', 'next-response', 'resolution'];
  const sorted = [...clocks].sort((a, b) => order.indexOf(a.clock) - order.indexOf(b.clock));
  return (
    <span className="sla-group">
      {sorted.map((c) => <Badge key={c.clock} clock={c.clock} dueAt={c.dueAt} status={effectiveSlaStatus(c, now)} now={now} />)}
    </span>
  );
}
