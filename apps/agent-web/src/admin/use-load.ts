import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../i18n/error-text';
import { useI18n } from '../i18n/i18n';

/** Loads a resource on mount; `reload()` fetches it again after a change. */
export function useLoad<T>(load: () => Promise<T>): { data: T | null; error: string | null; reload: () => void } {
  const { t } = useI18n();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const stable = useCallback(load, []);
  useEffect(() => {
    let cancelled = false;
    stable().then((d) => !cancelled && (setData(d), setError(null)), (e) => !cancelled && setError(errorText(t, e)));
    return () => {
      cancelled = true;
    };
    // Not on `t`: a language change does not load again.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [stable, n]);
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) };
}
