import type { Locale } from '../db/schema.ts';
import type { KeywordAction } from './opt-out-keywords.ts';

/**
 * The automatic replies to STOP / START / HELP keywords, in the keyword's language. `{tenant}`
 * is the tenant's name: carriers require the sender to be recognizable in these replies.
 */
const keywordReplies: Record<Locale, Record<KeywordAction, string>> = {
  en: {
    opt_out: '{tenant}: You are unsubscribed and will get no more messages from this number. Reply START to subscribe again.',
    opt_in: '{tenant}: You are subscribed again to messages from this number. Reply STOP to unsubscribe.',
    help: '{tenant}: Reply STOP to stop messages from this number, START to get them again. Message and data rates may apply.',
  },
  'es-MX': {
    opt_out: '{tenant}: Cancelaste tu suscripción y ya no recibirás mensajes de este número. Responde ALTA para volver a suscribirte.',
    opt_in: '{tenant}: Te suscribiste de nuevo a los mensajes de este número. Responde BAJA para cancelar.',
    help: '{tenant}: Responde BAJA para dejar de recibir mensajes de este número y ALTA para volver a recibirlos. Pueden aplicar cargos por mensaje.',
  },
  'pt-BR': {
    opt_out: '{tenant}: Sua inscrição foi cancelada e você não receberá mais mensagens deste número. Responda VOLTAR para se inscrever de novo.',
    opt_in: '{tenant}: Você voltou a receber mensagens deste número. Responda SAIR para cancelar.',
    help: '{tenant}: Responda SAIR para não receber mais mensagens deste número e VOLTAR para voltar a recebê-las. Podem ser cobradas tarifas de mensagem.',
  },
};

export function keywordReplyText(action: KeywordAction, language: Locale, tenantName: string): string {
  return keywordReplies[language][action].replace('{tenant}', tenantName);
}
