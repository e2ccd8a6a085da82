import type { Locale } from '../api/types';
import { locales, useI18n } from '../i18n/i18n';

/** Language names are written in their own language so anyone can find theirs. */
const nativeNames: Record<Locale, string> = { en: 'English', 'es-MX': 'Español (México)', 'pt-BR': 'Português (Brasil)' };

export function LocalePicker({ value, onChange, id }: { value: Locale; onChange: (l: Locale) => void; id?: string }) {
  const { t } = useI18n();
  return (
    <select id={id} className="select" aria-label={t('settings.language')} value={value}
      onChange={(e) => onChange(e.target.value as Locale)}>
      {locales.map((l) => <option key={l} value={l}>{nativeNames[l]}</option>)}
    </select>
  );
}
