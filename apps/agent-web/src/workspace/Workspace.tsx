import { useEffect, useRef, useState } from 'react';
import { navigate } from '../app/hash-route';
import { useSession } from '../app/session';
import { useI18n } from '../i18n/i18n';
import { ConversationList } from './ConversationList';
import { ConversationView, type ComposerHandle } from './ConversationView';
import { ShortcutHelp } from './ShortcutHelp';
import { useWorkspace } from './workspace-store';
import { Icon } from '../ui/Icon';

/** Elements where typed letters are text, not shortcuts. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(type);
  }
  return false;
}

export function Workspace({ conversationId }: { conversationId: string | null }) {
  const { t } = useI18n();
  const { session } = useSession();
  const { state, updateConversation, takeConversation } = useWorkspace();
  const [helpOpen, setHelpOpen] = useState(false);
  const composer = useRef<ComposerHandle | null>(null);
  const ctx = useRef({ state, conversationId });
  ctx.current = { state, conversationId };

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
      if (e.key === 'Escape') {
        if (isTypingTarget(e.target)) (e.target as HTMLElement).blur();
        setHelpOpen(false);
        return;
      }
      if (isTypingTarget(e.target)) return;
      const { state: s, conversationId: openId } = ctx.current;
      const ids = s.listIds;
      const move = (delta: number) => {
        if (ids.length === 0) return;
        const at = openId ? ids.indexOf(openId) : -1;
        const next = at === -1 ? (delta > 0 ? 0 : ids.length - 1) : Math.min(ids.length - 1, Math.max(0, at + delta));
        const id = ids[next];
        if (id) navigate({ name: 'conversations', conversationId: id });
      };
      const open = openId ? s.conversations[openId] : undefined;
      let handled = true;
      switch (e.key) {
        case 'j': move(1); break;
        case 'k': move(-1); break;
        case 'r': composer.current?.focus('reply'); break;
        case 'n': composer.current?.focus('note'); break;
        case '/': composer.current?.openCanned(); break;
        case 'e': if (open && open.status !== 'resolved') void updateConversation(open.id, { status: 'resolved' }).catch(() => undefined); break;
        case 'a': if (open && open.assigneeId !== session.user.id) void takeConversation(open.id).catch(() => undefined); break;
        case '?': setHelpOpen((v) => !v); break;
        default: handled = false;
      }
      if (handled) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [session.user.id, updateConversation, takeConversation]);

  return (
    <div className={`workspace${conversationId ? ' has-open' : ''}`}>
      <ConversationList openId={conversationId} />
      {conversationId ? (
        <ConversationView key={conversationId} conversationId={conversationId} composerRef={composer} />
      ) : (
        <section className="empty-pane">
          <div className="empty-state">
            <Icon name="message" size={40} />
            <h2>{t('workspace.noneSelected')}</h2>
            <p className="muted">{t('workspace.noneSelectedHint')}</p>
            <button type="button" className="btn btn-ghost" onClick={() => setHelpOpen(true)}>
              <Icon name="keyboard" /> {t('shortcuts.title')}
            </button>
          </div>
        </section>
      )}
      {helpOpen && <ShortcutHelp onClose={() => setHelpOpen(false)} />}
    </div>
  );
}
