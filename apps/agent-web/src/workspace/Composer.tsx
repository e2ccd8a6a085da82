import { useCallback, useEffect, useImperativeHandle, useLayoutEffect, useRef, useState, type KeyboardEvent, type MutableRefObject } from 'react';
import { api } from '../api/client';
import { errorText } from '../i18n/error-text';
import type { Attachment, CannedReply, Conversation, Message, User } from '../api/types';
import { useSession } from '../app/session';
import {
  applyCompletion, filterCannedReplies, filterMentionCandidates, findTrigger, mentionText, type Trigger,
} from '../composer/triggers';
import { composerPolicyView } from '../composer/send-policy';
import { useI18n } from '../i18n/i18n';
import { LOCAL_ID_PREFIX } from '../realtime/inbox-state';
import { useNow } from '../routing/use-now';
import { Avatar } from '../ui/Avatar';
import { Icon } from '../ui/Icon';
import { formatSize } from './AttachmentView';
import type { ComposerHandle } from './ConversationView';
import { SendPolicyNotice, TemplatePicker } from './SendPolicyBar';
import { useSendPolicy } from './use-send-policy';
import { useWorkspace } from './workspace-store';

type Mode = 'reply' | 'note';
interface PendingFile { key: string; name: string; size: number; attachment: Attachment | null; error: string | null }

/** Unsent drafts survive switching between conversations. */
const drafts = new Map<string, { text: string; mode: Mode }>();

const TYPING_IDLE_MS = 3_000;

function newClientId(): string {
  if (typeof crypto !== 'undefined' && 'randomUUID' in crypto) return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** An open completion list; its items are derived at render from the latest users / replies. */
type Popup =
  | { kind: 'mention'; trigger: Trigger; query: string }
  | { kind: 'canned'; trigger: Trigger | null; query: string };

export function Composer({ conversation, handleRef }: { conversation: Conversation; handleRef: MutableRefObject<ComposerHandle | null> }) {
  const { t } = useI18n();
  const { session } = useSession();
  const { users, cannedReplies, dispatch, sendTyping, reloadUsers, reloadCannedReplies, inboxes } = useWorkspace();
  const draft = drafts.get(conversation.id);
  const [mode, setMode] = useState<Mode>(draft?.mode ?? 'reply');
  const [text, setText] = useState(draft?.text ?? '');
  const [files, setFiles] = useState<PendingFile[]>([]);
  const [popup, setPopup] = useState<Popup | null>(null);
  const [active, setActive] = useState(0);
  const [pickerQuery, setPickerQuery] = useState('');
  const [error, setError] = useState<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const pickerInput = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const typingOn = useRef(false);
  const typingTimer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const id = conversation.id;
  const channel = conversation.channelType ?? inboxes.find((i) => i.id === conversation.inboxId)?.channelType;
  const { policy, reload: reloadPolicy } = useSendPolicy(conversation, channel);
  // Minutes are enough for "window closes in 3 h"; the hook refetches the policy the moment it closes.
  const now = useNow(60_000, Boolean(policy?.windowClosesAt));
  const policyView = composerPolicyView(policy, now);

  useEffect(() => {
    drafts.set(id, { text, mode });
  }, [id, text, mode]);

  const stopTyping = useCallback(() => {
    if (typingTimer.current) clearTimeout(typingTimer.current);
    typingTimer.current = null;
    if (typingOn.current) {
      typingOn.current = false;
      sendTyping(id, false);
    }
  }, [id, sendTyping]);

  useEffect(() => stopTyping, [stopTyping]);

  const openCannedPicker = useCallback(() => {
    setPickerQuery('');
    setActive(0);
    setPopup({ kind: 'canned', trigger: null, query: '' });
    reloadCannedReplies();
    setTimeout(() => pickerInput.current?.focus(), 0);
  }, [reloadCannedReplies]);

  useImperativeHandle(handleRef, () => ({
    focus: (m) => {
      setMode(m);
      textarea.current?.focus();
    },
    openCanned: openCannedPicker,
  }), [openCannedPicker]);

  const autosize = () => {
    const el = textarea.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${Math.min(el.scrollHeight, 240)}px`;
  };
  useEffect(autosize, [text]);

  const refreshPopup = (value: string, caret: number, m: Mode) => {
    const trigger = findTrigger(value, caret, m === 'note');
    if (!trigger) {
      if (popup?.trigger) setPopup(null);
      return;
    }
    setActive(0);
    // Teammates and replies may have changed since the workspace loaded: refresh on opening.
    if (popup?.kind !== trigger.kind) {
      if (trigger.kind === 'mention') reloadUsers();
      else reloadCannedReplies();
    }
    setPopup({ kind: trigger.kind, trigger, query: trigger.query });
  };

  const onChange = (value: string, caret: number) => {
    setText(value);
    setError(null);
    refreshPopup(value, caret, mode);
    // Only replies show "typing" to the contact; private notes are invisible to them.
    if (mode === 'reply' && value.trim()) {
      if (!typingOn.current) {
        typingOn.current = true;
        sendTyping(id, true);
      }
      if (typingTimer.current) clearTimeout(typingTimer.current);
      typingTimer.current = setTimeout(stopTyping, TYPING_IDLE_MS);
    } else if (!value.trim()) {
      stopTyping();
    }
  };

  // The caret is placed in the same commit that renders the completed text: a frame later, keys
  // typed meanwhile would already be in the text and the caret would jump back before them.
  const pendingCaret = useRef<number | null>(null);
  const placeCaret = (caret: number) => {
    const ta = textarea.current;
    if (!ta) return;
    ta.focus();
    ta.setSelectionRange(caret, caret);
  };
  useLayoutEffect(() => {
    if (pendingCaret.current === null) return;
    placeCaret(pendingCaret.current);
    pendingCaret.current = null;
  }, [text]);

  const insertAtTrigger = (trigger: Trigger | null, completion: string) => {
    const el = textarea.current;
    const caret = el ? el.selectionEnd : text.length;
    let next: { text: string; caret: number };
    if (trigger) {
      next = applyCompletion(text, trigger, caret, completion);
    } else {
      const at = el ? el.selectionStart : text.length;
      next = { text: text.slice(0, at) + completion + text.slice(caret), caret: at + completion.length };
    }
    // The same text renders nothing new: the caret is placed now (focus back from the popup too).
    if (next.text === text) placeCaret(next.caret);
    else pendingCaret.current = next.caret;
    setText(next.text);
    setPopup(null);
  };

  const pickCanned = async (reply: CannedReply, trigger: Trigger | null) => {
    setPopup(null);
    try {
      const { content } = await api.renderCannedReply(reply.id, id);
      insertAtTrigger(trigger, content);
    } catch (err) {
      setError(errorText(t, err));
    }
  };

  const mentionItems: User[] = popup?.kind === 'mention' ? filterMentionCandidates(users, popup.query) : [];
  const cannedItems: CannedReply[] = popup?.kind === 'canned' ? filterCannedReplies(cannedReplies, popup.query) : [];
  const popupCount = popup?.kind === 'mention' ? mentionItems.length : cannedItems.length;

  const pick = (index: number) => {
    if (!popup) return;
    if (popup.kind === 'mention') {
      const user = mentionItems[index];
      if (user) insertAtTrigger(popup.trigger, mentionText(user));
    } else {
      const reply = cannedItems[index];
      if (reply) void pickCanned(reply, popup.trigger);
    }
  };

  const onUpload = async (list: FileList | null) => {
    if (!list) return;
    for (const file of Array.from(list)) {
      const key = newClientId();
      setFiles((f) => [...f, { key, name: file.name, size: file.size, attachment: null, error: null }]);
      try {
        const attachment = await api.uploadAttachment(file);
        setFiles((f) => f.map((x) => (x.key === key ? { ...x, attachment } : x)));
      } catch (err) {
        setFiles((f) => f.map((x) => (x.key === key ? { ...x, error: errorText(t, err) } : x)));
      }
    }
    if (fileInput.current) fileInput.current.value = '';
  };

  const uploading = files.some((f) => !f.attachment && !f.error);

  const isNote = mode === 'note';
  /** Replies are refused here (opted out, unavailable country, closed window); private notes never are. */
  const replyBlocked = !isNote && !policyView.replyAllowed;
  const templates = replyBlocked && policyView.offerTemplates && policy ? policy.templates : null;

  const send = () => {
    if (replyBlocked) return;
    const content = text.trim();
    const attachments = files.flatMap((f) => (f.attachment ? [f.attachment] : []));
    if ((!content && attachments.length === 0) || uploading) return;
    const clientMessageId = newClientId();
    const optimistic: Message = {
      id: `${LOCAL_ID_PREFIX}${clientMessageId}`, conversationId: id, direction: 'out', private: isNote,
      senderType: 'user', senderId: session.user.id, senderName: session.user.name, content, attachments,
      mentions: [], status: 'sent', clientMessageId, createdAt: new Date().toISOString(),
    };
    dispatch({ type: 'messageAdded', message: optimistic });
    setText('');
    setFiles([]);
    setPopup(null);
    stopTyping();
    api.sendMessage(id, {
      content, private: isNote, clientMessageId,
      ...(attachments.length ? { attachmentIds: attachments.map((a) => a.id) } : {}),
    }).then(
      (message) => dispatch({ type: 'messageAdded', message }),
      (err) => {
        dispatch({ type: 'messageFailed', conversationId: id, clientMessageId });
        setError(errorText(t, err));
        // Refused for a reason the policy knows (a STOP just arrived, the window just closed): say it.
        if (!isNote) reloadPolicy();
      },
    );
  };

  const popupKeys = (e: KeyboardEvent) => {
    if (!popup || popupCount === 0) {
      if (popup && e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        setPopup(null);
        return true;
      }
      return false;
    }
    const n = popupCount;
    if (e.key === 'ArrowDown') setActive((a) => (a + 1) % n);
    else if (e.key === 'ArrowUp') setActive((a) => (a - 1 + n) % n);
    else if (e.key === 'Enter' || e.key === 'Tab') pick(Math.min(active, n - 1));
    else if (e.key === 'Escape') {
      setPopup(null);
      textarea.current?.focus();
    } else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.nativeEvent.isComposing) return;
    if (popupKeys(e)) return;
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      send();
    }
  };

  return (
    <div className={`composer${isNote ? ' composer-note' : ''}`}>
      <div className="composer-tabs" role="tablist" aria-label={t('composer.mode')}>
        <button type="button" role="tab" aria-selected={!isNote} className={`composer-tab${!isNote ? ' active' : ''}`}
          onClick={() => { setMode('reply'); textarea.current?.focus(); }}>{t('composer.reply')}</button>
        <button type="button" role="tab" aria-selected={isNote} className={`composer-tab${isNote ? ' active' : ''}`}
          onClick={() => { setMode('note'); stopTyping(); textarea.current?.focus(); }}>
          <Icon name="lock" size={12} /> {t('composer.note')}
        </button>
      </div>
      {popup && (
        <div className="popup" role="listbox" aria-label={popup.kind === 'mention' ? t('composer.mentionUsers') : t('composer.cannedReplies')}>
          {popup.kind === 'canned' && popup.trigger === null && (
            <input ref={pickerInput} className="input input-sm popup-search" value={pickerQuery} placeholder={t('composer.searchCanned')}
              aria-label={t('composer.searchCanned')}
              onChange={(e) => {
                setPickerQuery(e.target.value);
                setActive(0);
                setPopup({ kind: 'canned', trigger: null, query: e.target.value });
              }}
              onKeyDown={(e) => popupKeys(e)} onBlur={() => setTimeout(() => setPopup((p) => (p?.trigger === null ? null : p)), 150)} />
          )}
          {popupCount === 0 && (
            <div className="popup-empty muted">{popup.kind === 'mention' ? t('composer.noUsers') : t('composer.noCanned')}</div>
          )}
          {mentionItems.map((u, i) => (
            <button type="button" role="option" aria-selected={i === active} key={u.id} className={`popup-item${i === active ? ' active' : ''}`}
              onMouseDown={(e) => { e.preventDefault(); pick(i); }} onMouseEnter={() => setActive(i)}>
              <Avatar name={u.name} size={22} /> <span className="popup-title">{u.name}</span> <span className="muted small">{u.email}</span>
            </button>
          ))}
          {cannedItems.map((r, i) => (
            <button type="button" role="option" aria-selected={i === active} key={r.id} className={`popup-item canned${i === active ? ' active' : ''}`}
              onMouseDown={(e) => { e.preventDefault(); pick(i); }} onMouseEnter={() => setActive(i)}>
              <span className="popup-code">/{r.shortCode}</span> <span className="popup-preview">{r.content}</span>
            </button>
          ))}
        </div>
      )}
      {!isNote && policy && <SendPolicyNotice policy={policy} view={policyView} />}
      {templates ? (
        <TemplatePicker conversationId={id} templates={templates} onSent={(message) => dispatch({ type: 'messageAdded', message })} />
      ) : (
        <textarea ref={textarea} className="composer-input" rows={2} value={text} name="composer" disabled={replyBlocked}
          placeholder={isNote ? t('composer.notePlaceholder') : replyBlocked ? '' : t('composer.replyPlaceholder')}
          aria-label={isNote ? t('composer.note') : t('composer.reply')}
          onChange={(e) => onChange(e.target.value, e.target.selectionEnd)}
          onKeyDown={onKeyDown}
          onClick={(e) => refreshPopup(text, e.currentTarget.selectionEnd, mode)}
          onBlur={() => setTimeout(() => setPopup((p) => (p?.trigger ? null : p)), 150)} />
      )}
      {files.length > 0 && (
        <div className="composer-files">
          {files.map((f) => (
            <span key={f.key} className={`file-chip${f.error ? ' error' : ''}`} title={f.error ?? undefined}>
              <Icon name="file" size={13} /> {f.name} <span className="muted">{f.error ? t('composer.uploadFailed') : f.attachment ? formatSize(f.size) : t('composer.uploading')}</span>
              <button type="button" aria-label={t('composer.removeFile', { name: f.name })}
                onClick={() => setFiles((all) => all.filter((x) => x.key !== f.key))}><Icon name="x" size={11} /></button>
            </span>
          ))}
        </div>
      )}
      {!templates && (<div className="composer-bar">
        <button type="button" className="icon-btn" title={t('composer.attach')} aria-label={t('composer.attach')}
          onClick={() => fileInput.current?.click()}><Icon name="paperclip" /></button>
        <input ref={fileInput} type="file" multiple hidden onChange={(e) => void onUpload(e.target.files)} data-testid="file-input" />
        <button type="button" className="icon-btn" title={`${t('composer.cannedReplies')} (/)`} aria-label={t('composer.cannedReplies')}
          onClick={openCannedPicker}><Icon name="bolt" /></button>
        <span className="composer-hint muted small">{isNote ? t('composer.noteHint') : t('composer.hint')}</span>
        {error && <span className="form-error inline" role="alert">{error}</span>}
        <button type="button" className={`btn btn-sm ${isNote ? 'btn-note' : 'btn-primary'}`} onClick={send}
          disabled={replyBlocked || uploading || (!text.trim() && !files.some((f) => f.attachment))}>
          <Icon name="send" size={14} /> {isNote ? t('composer.addNote') : t('composer.send')}
        </button>
      </div>)}
    </div>
  );
}
