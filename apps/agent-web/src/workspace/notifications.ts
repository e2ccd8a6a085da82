/** Desktop notifications (Notification API), shown only after the agent granted permission. */

export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window;
}

export function notificationPermission(): NotificationPermission | 'unsupported' {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}

export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!notificationsSupported()) return 'unsupported';
  return Notification.requestPermission();
}

export function showMessageNotification(opts: {
  title: string;
  body: string;
  tag: string;
  onClick: () => void;
  /** Stays on screen until dismissed (offers: the agent must not miss them). */
  requireInteraction?: boolean;
}): Notification | null {
  if (!notificationsSupported() || Notification.permission !== 'granted') return null;
  try {
    // Notification text is plain text by specification; no HTML is interpreted.
    const n = new Notification(opts.title, { body: opts.body.slice(0, 200), tag: opts.tag, requireInteraction: opts.requireInteraction });
    n.onclick = () => {
      window.focus();
      opts.onClick();
      n.close();
    };
    return n;
  } catch {
    // Some platforms only allow notifications from a service worker; the title badge remains.
    return null;
  }
}
