import type { Locale } from '../db/schema.ts';

/** What a keyword asks for: stop messages from this number, allow them again, or explain. */
export type KeywordAction = 'opt_out' | 'opt_in' | 'help';

export interface KeywordMatch {
  action: KeywordAction;
  /** The keyword as the contact's message had it, normalized (upper case, no accents). */
  keyword: string;
  /** The language of the confirmation reply. */
  language: Locale;
}

/**
 * The keywords carriers and regulators expect (CTIA in the US; the same practice in Mexico and
 * Brazil), in normalized form. CANCELAR and INICIAR are both Spanish and Portuguese: the
 * contact's number decides (see languageOf).
 */
const KEYWORDS: { action: KeywordAction; words: Partial<Record<Locale, string[]>> }[] = [
  { action: 'opt_out', words: { en: ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT'], 'es-MX': ['BAJA', 'ALTO', 'DETENER', 'CANCELAR'], 'pt-BR': ['SAIR', 'PARAR', 'CANCELAR'] } },
  { action: 'opt_in', words: { en: ['START', 'UNSTOP', 'YES'], 'es-MX': ['ALTA', 'INICIAR'], 'pt-BR': ['VOLTAR', 'INICIAR'] } },
  { action: 'help', words: { en: ['HELP', 'INFO'], 'es-MX': ['AYUDA'], 'pt-BR': ['AJUDA'] } },
];

/** Brazil's country calling code: a Portuguese-or-Spanish keyword from +55 is answered in Portuguese. */
const BRAZIL_PREFIX = '+55';

/** A letter or digit, whitespace, a letter or digit: normalizing keeps all three (it only strips marks and the ends). */
const TWO_WORDS = /[\p{L}\p{N}]\s+[\p{L}\p{N}]/u;

/** Upper case without accents or the punctuation people add (`Stop.`, `¡Baja!`): `BAJA`. */
export function normalizeKeyword(text: string): string {
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .trim()
    .replace(/^[\s¡¿.!?"'«»]+|[\s¡¿.!?"'«»]+$/g, '')
    .toUpperCase();
}

/**
 * The keyword a whole inbound text is, or null: only a message that is nothing but the keyword
 * counts ("stop calling me at work" is a message for an agent, not an opt-out).
 */
export function matchKeyword(text: string, fromHandle: string): KeywordMatch | null {
  // Most texts are sentences: two words stay two words through normalizing, so no keyword (and no NFD of the whole text).
  if (TWO_WORDS.test(text)) return null;
  const word = normalizeKeyword(text);
  if (!word || word.length > 20 || /\s/.test(word)) return null;
  for (const { action, words } of KEYWORDS) {
    const languages = (Object.keys(words) as Locale[]).filter((l) => words[l]!.includes(word));
    if (languages.length === 0) continue;
    const language = languages.length === 1 ? languages[0]! : languageOf(fromHandle, languages);
    return { action, keyword: word, language };
  }
  return null;
}

function languageOf(handle: string, candidates: Locale[]): Locale {
  const digits = handle.replace(/[^\d+]/g, '');
  const brazilian = digits.startsWith(BRAZIL_PREFIX) || digits.startsWith('55');
  if (brazilian && candidates.includes('pt-BR')) return 'pt-BR';
  return candidates.includes('es-MX') ? 'es-MX' : candidates[0]!;
}
