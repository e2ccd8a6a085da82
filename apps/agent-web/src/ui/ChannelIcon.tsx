import type { ChannelType } from '../api/types';
import { useI18n } from '../i18n/i18n';
import { Icon, type IconName } from './Icon';

const glyphs: Record<ChannelType, IconName> = {
  webchat: 'message',
  api: 'bolt',
  email: 'mail',
  sms: 'sms',
  whatsapp: 'whatsapp',
  messenger: 'messenger',
  instagram: 'instagram',
};

/** The channel a conversation or inbox speaks through, as a small coloured glyph with its name for screen readers and hover. */
export function ChannelIcon({ channel, size = 14 }: { channel: ChannelType | undefined; size?: number }) {
  const { t } = useI18n();
  const c: ChannelType = channel && channel in glyphs ? channel : 'webchat';
  const name = t(`channel.${c}`);
  return (
    <span className={`channel-icon channel-${c}`} title={name} role="img" aria-label={name} data-channel={c}>
      <Icon name={glyphs[c]} size={size} />
    </span>
  );
}
