/**
 * The automatic answer to a STOP / START / HELP keyword is the one message that goes to a
 * contact who just opted out. It is a system message (no user or API key can post one) with a
 * client id derived from the keyword message, which also makes it idempotent: a redelivered
 * STOP gets no second confirmation.
 */
const PREFIX = 'keyword-reply:';

export const keywordReplyClientId = (keywordMessageId: string) => `${PREFIX}${keywordMessageId}`;

export function isKeywordReply(message: { senderType: string; clientMessageId?: string | null }): boolean {
  return message.senderType === 'system' && (message.clientMessageId ?? '').startsWith(PREFIX);
}
