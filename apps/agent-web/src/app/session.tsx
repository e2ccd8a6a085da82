import { createContext, useContext } from 'react';
import type { Locale, Session } from '../api/types';

export interface SessionValue {
  session: Session;
  setLocale: (locale: Locale) => Promise<void>;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const v = useContext(SessionContext);
  if (!v) throw new Error('useSession outside SessionContext');
  return v;
}
