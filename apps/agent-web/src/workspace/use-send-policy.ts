import { useCallback, useEffect, useState } from 'react';
import { api } from '../api/client';
import type { Conversation, SendPolicy } from '../api/types';
import { hasSendPolicy, policyRefreshDelay } from '../composer/send-policy';
import { useWorkspace } from './workspace-store';

/** Something that changes a policy happened outside the composer (a consent toggled in the contact panel). */
const changed = new Set<(conversationId: string) => void>();
export function sendPolicyChanged(conversationId: string): void {
  for (const listener of changed) listener(conversationId);
}

/**
 * The send policy of a provider-channel conversation (null for web chat and email, and while
 * loading), fetched again when the customer writes (a new window, maybe a STOP), when the window
 * closes, and on `sendPolicyChanged`.
 */
export function useSendPolicy(conversation: Conversation, channel: Conversation['channelType']): { policy: SendPolicy | null; reload: () => void } {
  const { state } = useWorkspace();
  const [policy, setPolicy] = useState<SendPolicy | null>(null);
  const [n, setN] = useState(0);
  const id = conversation.id;
  const applies = hasSendPolicy(channel);
  const messages = state.messages[id];
  let lastInbound: string | null = null;
  if (messages) for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.direction === 'in') { lastInbound = messages[i]!.id; break; }
  const reload = useCallback(() => setN((x) => x + 1), []);

  useEffect(() => {
    setPolicy(null);
  }, [id]);

  useEffect(() => {
    if (!applies) return;
    let cancelled = false;
    // A server without the route (or a hiccup) leaves the composer as it was: the send itself still gets the server's answer.
    api.sendPolicy(id).then((p) => !cancelled && setPolicy(p), () => !cancelled && setPolicy(null));
    return () => {
      cancelled = true;
    };
  }, [id, applies, lastInbound, n]);

  useEffect(() => {
    const delay = policyRefreshDelay(policy, Date.now());
    // Timers above ~24.8 days overflow; a window is a day at most.
    if (delay === null || delay > 2 ** 31 - 1) return;
    const timer = setTimeout(reload, delay);
    return () => clearTimeout(timer);
  }, [policy, reload]);

  useEffect(() => {
    const listener = (conversationId: string) => conversationId === id && reload();
    changed.add(listener);
    return () => {
      changed.delete(listener);
    };
  }, [id, reload]);

  return { policy: applies ? policy : null, reload };
}
