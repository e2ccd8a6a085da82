import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import { useI18n } from '../i18n/i18n';
import { Icon } from '../ui/Icon';
import { countryList, countryName } from './countries';
import { useLoad } from './use-load';

/** The tenant's sending rules (CO-3): countries no message goes to or from, and the tenant-wide send rate. */
export function ComplianceAdmin() {
  const { t, locale } = useI18n();
  const { data, error } = useLoad(() => api.tenantSettings());
  const [countries, setCountries] = useState<string[]>([]);
  const [rate, setRate] = useState('');
  const [status, setStatus] = useState<{ ok: boolean; text: string } | null>(null);
  const all = useMemo(() => countryList(locale), [locale]);

  useEffect(() => {
    if (!data) return;
    setCountries(data.unavailableCountries ?? []);
    setRate(data.maxSendsPerSecond != null ? String(data.maxSendsPerSecond) : '');
  }, [data]);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setStatus(null);
    const text = rate.trim();
    const maxSendsPerSecond = text ? Number(text) : null;
    if (maxSendsPerSecond !== null && !(maxSendsPerSecond > 0)) {
      setStatus({ ok: false, text: t('compliance.badRate') });
      return;
    }
    try {
      const saved = await api.updateTenantSettings({ unavailableCountries: countries, maxSendsPerSecond });
      setRate(saved.maxSendsPerSecond != null ? String(saved.maxSendsPerSecond) : '');
      setCountries(saved.unavailableCountries ?? countries);
      setStatus({ ok: true, text: t('common.saved') });
    } catch (err) {
      setStatus({ ok: false, text: errorText(t, err) });
    }
  };

  const sorted = [...countries].sort((a, b) => countryName(a, locale).localeCompare(countryName(b, locale), locale));
  return (
    <div className="page-body narrow">
      <header className="section-header"><h2>{t('compliance.title')}</h2></header>
      {error && <p className="form-error">{error}</p>}
      {/* The form waits for the stored settings: edits made before they arrive would be overwritten by them. */}
      {!data && !error && <p className="muted">{t('common.loading')}</p>}
      {data && <form onSubmit={save}>
        <section className="card">
          <h3>{t('compliance.countries')}</h3>
          <p className="muted small">{t('compliance.countriesHint')}</p>
          <div className="country-chips" data-testid="unavailable-countries">
            {sorted.length === 0 && <span className="muted small">{t('compliance.noCountries')}</span>}
            {sorted.map((code) => (
              <span key={code} className="label-chip" data-country={code}>
                {countryName(code, locale)} <span className="muted mono">{code}</span>
                <button type="button" aria-label={t('compliance.removeCountry', { country: countryName(code, locale) })}
                  onClick={() => setCountries(countries.filter((c) => c !== code))}><Icon name="x" size={11} /></button>
              </span>
            ))}
          </div>
          <select className="select" name="addCountry" value="" aria-label={t('compliance.addCountry')}
            onChange={(e) => e.target.value && !countries.includes(e.target.value) && setCountries([...countries, e.target.value])}>
            <option value="">{t('compliance.addCountry')}…</option>
            {all.filter((c) => !countries.includes(c.code)).map((c) => <option key={c.code} value={c.code}>{c.name} ({c.code})</option>)}
          </select>
        </section>
        <section className="card">
          <label className="field">
            <span>{t('compliance.rate')}</span>
            <input className="input input-narrow" name="maxSendsPerSecond" inputMode="decimal" value={rate} onChange={(e) => setRate(e.target.value)}
              placeholder={data?.defaultMaxSendsPerSecond !== undefined ? String(data.defaultMaxSendsPerSecond) : undefined} />
            {data?.defaultMaxSendsPerSecond !== undefined && <span className="muted small">{t('compliance.rateHint', { n: data.defaultMaxSendsPerSecond })}</span>}
          </label>
        </section>
        <div className="form-actions">
          <button className="btn btn-primary" type="submit" disabled={!data}>{t('common.save')}</button>
          {status && <span className={status.ok ? 'ok' : 'form-error'} role="status">{status.text}</span>}
        </div>
      </form>}
    </div>
  );
}
