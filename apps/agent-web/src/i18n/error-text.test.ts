import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { translate } from './i18n';
import { errorText } from './error-text';
import type { Locale } from '../api/types';

const inLocale = (locale: Locale) => (err: unknown) => errorText((k, p) => translate(locale, k, p), err);
const [en, es, pt] = (['en', 'es-MX', 'pt-BR'] as const).map(inLocale) as [ReturnType<typeof inLocale>, ReturnType<typeof inLocale>, ReturnType<typeof inLocale>];

describe('errors as the person reads them', () => {
  it("says routing's refusals in the user's language", () => {
    const noRoom = new ApiError(409, 'PARLEY_ERR_ROUTING_NO_CAPACITY', 'Agent u1 has no chat capacity left');
    expect(en(noRoom)).toBe('No room left: the agent already has as many conversations of this channel as their capacity allows.');
    expect(es(noRoom)).toBe('Sin espacio: el agente ya tiene tantas conversaciones de este canal como su capacidad permite.');
    expect(pt(noRoom)).toBe('Sem espaço: o agente já tem tantas conversas deste canal quanto sua capacidade permite.');
    // Work offered to someone else: the engine says which state it is in.
    const offered = new ApiError(409, 'PARLEY_ERR_ROUTING_ITEM_NOT_WAITING', 'Item c1 is offered, only waiting items can be picked', { itemId: 'c1', state: 'offered' });
    expect(es(offered)).toBe('Esta conversación se está ofreciendo a otro agente: se podrá tomar si la rechaza o si la oferta vence.');
    const gone = new ApiError(409, 'PARLEY_ERR_ROUTING_ITEM_NOT_WAITING', 'Conversation c1 is not in a queue', { itemId: 'c1' });
    expect(pt(gone)).toBe('Esta conversa não está mais esperando em uma fila.');
  });

  it("translates the meaning of the server's codes, and keeps the server's specifics where the meaning alone cannot say them", () => {
    const forbidden = new ApiError(403, 'PARLEY_ERR_FORBIDDEN', 'agents may only transfer their own conversations');
    expect(en(forbidden)).toBe('You are not allowed to do this (agents may only transfer their own conversations)');
    expect(es(forbidden)).toBe('No tienes permiso para hacer esto (agents may only transfer their own conversations)');
    const notFound = new ApiError(404, 'PARLEY_ERR_NOT_FOUND', 'conversation not found');
    expect(pt(notFound)).toBe('Não encontrado: talvez tenha sido excluído.');
    expect(es(new ApiError(401, 'PARLEY_ERR_SESSION_EXPIRED', 'session expired'))).toBe('Tu sesión terminó. Vuelve a iniciar sesión.');
    expect(es(new ApiError(429, 'PARLEY_ERR_RATE_LIMITED', 'slow down'))).toBe('Demasiadas solicitudes. Espera un momento e inténtalo de nuevo.');
    expect(pt(new ApiError(0, 'PARLEY_ERR_NETWORK', 'Failed to fetch'))).toBe('Não foi possível contatar o Parley. Verifique sua conexão e tente novamente.');
  });

  it("shows a code it does not know, or an error that is not the server's, as it came", () => {
    expect(es(new ApiError(418, 'PARLEY_ERR_TEAPOT', 'short and stout'))).toBe('short and stout');
    expect(es(new Error('boom'))).toBe('boom');
  });
});
