import type { CannedReply, User } from '../api/types';

/** What the agent is completing at the caret: an @mention (notes) or a /canned reply. */
export interface Trigger {
  kind: 'mention' | 'canned';
  /** Text typed after the @ or /. */
  query: string;
  /** Index of the @ or / in the text. */
  start: number;
}

/**
 * Finds the completion trigger that ends at the caret. A mention starts with @ at the start of
 * the text or after whitespace; a canned reply starts with / at the start of a line.
 */
export function findTrigger(text: string, caret: number, allowMentions: boolean): Trigger | null {
  const before = text.slice(0, caret);
  const canned = /(^|\n)\/([\w.-]*)$/.exec(before);
  if (canned) {
    const query = canned[2] ?? '';
    return { kind: 'canned', query, start: caret - query.length - 1 };
  }
  if (allowMentions) {
    const mention = /(^|\s)@([\p{L}\p{N}._-]*)$/u.exec(before);
    if (mention) {
      const query = mention[2] ?? '';
      return { kind: 'mention', query, start: caret - query.length - 1 };
    }
  }
  return null;
}

/** Replaces the trigger (from its start to the caret) by the completion. */
export function applyCompletion(
  text: string,
  trigger: Trigger,
  caret: number,
  completion: string,
): { text: string; caret: number } {
  const next = text.slice(0, trigger.start) + completion + text.slice(caret);
  return { text: next, caret: trigger.start + completion.length };
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** Users whose name (any word) or email starts with the query. */
export function filterMentionCandidates(users: User[], query: string, limit = 6): User[] {
  const q = fold(query);
  return users
    .filter((u) => {
      if (!q) return true;
      const words = fold(u.name).split(/\s+/);
      return words.some((w) => w.startsWith(q)) || fold(u.name).startsWith(q) || fold(u.email).startsWith(q);
    })
    .slice(0, limit);
}

/** Canned replies whose short code starts with the query first, then those that contain it. */
export function filterCannedReplies(replies: CannedReply[], query: string, limit = 8): CannedReply[] {
  const q = fold(query);
  const starts = replies.filter((r) => fold(r.shortCode).startsWith(q));
  const contains = replies.filter(
    (r) => !fold(r.shortCode).startsWith(q) && (fold(r.shortCode).includes(q) || fold(r.content).includes(q)),
  );
  return [...starts, ...contains].slice(0, limit);
}

/** The text inserted for a mention: `@Full Name ` (the server resolves names to user ids). */
export function mentionText(user: User): string {
  return `@${user.name} `;
}

export type ContentSegment = { kind: 'text'; text: string } | { kind: 'mention'; text: string; userId: string };

/**
 * Splits message content into plain text and @mentions of known users (longest name wins), so
 * mentions can be highlighted while everything stays React text, never HTML.
 */
export function splitMentions(content: string, users: Pick<User, 'id' | 'name'>[]): ContentSegment[] {
  const named = users.filter((u) => u.name.trim()).sort((a, b) => b.name.length - a.name.length);
  const segments: ContentSegment[] = [];
  let buffer = '';
  let i = 0;
  while (i < content.length) {
    const ch = content[i];
    const atBoundary = i === 0 || /\s|[(\[]/.test(content[i - 1] ?? '');
    if (ch === '@' && atBoundary) {
      const rest = content.slice(i + 1);
      const hit = named.find((u) => {
        if (!rest.toLowerCase().startsWith(u.name.toLowerCase())) return false;
        const after = rest[u.name.length];
        return after === undefined || !/[\p{L}\p{N}]/u.test(after);
      });
      if (hit) {
        if (buffer) segments.push({ kind: 'text', text: buffer });
        buffer = '';
        const text = content.slice(i, i + 1 + hit.name.length);
        segments.push({ kind: 'mention', text, userId: hit.id });
        i += text.length;
        continue;
      }
    }
    buffer += ch;
    i += 1;
  }
  if (buffer) segments.push({ kind: 'text', text: buffer });
  return segments;
}
