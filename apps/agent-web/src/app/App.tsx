import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, onUnauthorized, setCsrfToken } from '../api/client';
import type { Locale, Session, User } from '../api/types';
import { InvitePage } from '../auth/InvitePage';
import { LoginPage } from '../auth/LoginPage';
import { browserLocale, I18nProvider, isLocale } from '../i18n/i18n';
import { navigate } from './hash-route';
import { SessionContext, type SessionValue } from './session';
import { Shell } from './Shell';
import { useHashRoute } from './use-hash-route';

const RETURN_KEY = 'parley.agent.returnTo';

function rememberReturnTo(hash: string): void {
  try {
    if (hash && hash !== '#/' && hash !== '#/conversations') sessionStorage.setItem(RETURN_KEY, hash);
  } catch {
    // Storage unavailable: the inbox opens after login.
  }
}

function takeReturnTo(): string | null {
  try {
    const hash = sessionStorage.getItem(RETURN_KEY);
    sessionStorage.removeItem(RETURN_KEY);
    // Only a hash of this app: never an arbitrary URL.
    return hash && /^#\/[\w\-/%.:]*$/.test(hash) && !hash.startsWith('#/login') ? `${location.pathname}${location.search}${hash}` : null;
  } catch {
    return null;
  }
}

export function App() {
  const route = useHashRoute();
  const [session, setSession] = useState<Session | null>(null);
  const [booting, setBooting] = useState(true);
  const [guestLocale, setGuestLocale] = useState<Locale>(browserLocale);

  const acceptSession = useCallback((s: Session) => {
    setCsrfToken(s.csrfToken);
    setSession(s);
  }, []);

  useEffect(() => {
    onUnauthorized(() => {
      setCsrfToken(null);
      setSession(null);
    });
    api.me().then(acceptSession, () => setSession(null)).finally(() => setBooting(false));
    return () => onUnauthorized(null);
  }, [acceptSession]);

  useEffect(() => {
    if (booting) return;
    if (!session && route.name !== 'login' && route.name !== 'invite') {
      // Come back here after signing in (a shared link, or a session that expired mid-work).
      rememberReturnTo(location.hash);
      navigate({ name: 'login' }, true);
    }
    if (session && route.name === 'login') {
      const back = takeReturnTo();
      if (back) location.replace(back);
      else navigate({ name: 'conversations', conversationId: null }, true);
    }
  }, [booting, session, route.name]);

  const setLocale = useCallback(async (locale: Locale) => {
    // The UI switches at once; the server keeps the choice for the next login.
    setSession((s) => (s ? { ...s, user: { ...s.user, locale } } : s));
    const res = await api.updateMe({ locale });
    const user: User | undefined =
      res && 'user' in res ? res.user : res && 'email' in res ? res : undefined;
    if (user) setSession((s) => (s ? { ...s, user: { ...s.user, ...user } } : s));
  }, []);

  const logout = useCallback(async () => {
    try {
      sessionStorage.removeItem(RETURN_KEY);
      await api.logout();
    } finally {
      setCsrfToken(null);
      setSession(null);
      navigate({ name: 'login' });
    }
  }, []);

  const sessionValue = useMemo<SessionValue | null>(
    () => (session ? { session, setLocale, logout } : null),
    [session, setLocale, logout],
  );

  const locale: Locale = session && isLocale(session.user.locale) ? session.user.locale : guestLocale;

  let page;
  if (booting) {
    page = <div className="boot" aria-busy="true" />;
  } else if (route.name === 'invite') {
    page = (
      <InvitePage
        token={route.token}
        onAccepted={(s) => {
          acceptSession(s);
          // Keep the language the new teammate chose on the invitation page.
          if (s.user.locale !== guestLocale) void setLocale(guestLocale).catch(() => undefined);
          navigate({ name: 'conversations', conversationId: null });
        }}
        onLocale={setGuestLocale}
      />
    );
  } else if (!sessionValue) {
    page = <LoginPage onLoggedIn={acceptSession} onLocale={setGuestLocale} />;
  } else {
    page = (
      <SessionContext.Provider value={sessionValue}>
        <Shell route={route} />
      </SessionContext.Provider>
    );
  }
  return <I18nProvider locale={locale}>{page}</I18nProvider>;
}
