import { describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { translate } from '../i18n/i18n';
import { routingErrorText } from './routing-errors';

describe('routing refusals in the header', () => {
  it("says routing's known reasons in the user's language, and anything else as the server said it", () => {
    const noRoom = new ApiError(409, 'PARLEY_ERR_ROUTING_NO_CAPACITY', 'Agent u1 has no chat capacity left');
    expect(routingErrorText((k, p) => translate('en', k, p), noRoom)).toBe('No room left: the agent already has as many conversations of this channel as their capacity allows.');
    expect(routingErrorText((k, p) => translate('es-MX', k, p), noRoom)).toBe('Sin espacio: el agente ya tiene tantas conversaciones de este canal como su capacidad permite.');
    expect(routingErrorText((k, p) => translate('pt-BR', k, p), noRoom)).toBe('Sem espaço: o agente já tem tantas conversas deste canal quanto sua capacidade permite.');
    const other = new ApiError(403, 'PARLEY_ERR_FORBIDDEN', 'agents may only transfer their own conversations');
    expect(routingErrorText((k, p) => translate('es-MX', k, p), other)).toBe('agents may only transfer their own conversations');
  });
});
