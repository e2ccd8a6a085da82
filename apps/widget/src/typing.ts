/**
 * Decides when to tell the server the visitor is typing: `on` at most once per `interval`
 * while keys are pressed, and `off` after `idle` ms without a key or when the message is sent.
 */
export class TypingThrottle {
  private typing = false;
  private lastOnAt = -Infinity;
  private idleTimer: unknown = null;

  constructor(
    private readonly send: (on: boolean) => void,
    private readonly opts: {
      interval?: number;
      idle?: number;
      now?: () => number;
      setTimer?: (fn: () => void, ms: number) => unknown;
      clearTimer?: (h: unknown) => void;
    } = {},
  ) {}

  /** Call on every input event. */
  keystroke(): void {
    const now = (this.opts.now ?? Date.now)();
    if (!this.typing || now - this.lastOnAt >= (this.opts.interval ?? 3000)) {
      this.typing = true;
      this.lastOnAt = now;
      this.send(true);
    }
    this.clear();
    this.idleTimer = (this.opts.setTimer ?? setTimeout)(() => this.stop(), this.opts.idle ?? 4000);
  }

  /** Call when the message is sent or the composer emptied. */
  stop(): void {
    this.clear();
    if (this.typing) {
      this.typing = false;
      this.lastOnAt = -Infinity;
      this.send(false);
    }
  }

  private clear(): void {
    if (this.idleTimer !== null) (this.opts.clearTimer ?? clearTimeout)(this.idleTimer as ReturnType<typeof setTimeout>);
    this.idleTimer = null;
  }
}
