import { debug } from './debug';
import type { Ack, EventResult } from './types';

/** Whether the user has the page in front of them, and when that may have changed. */
export interface FocusSource {
  focused(): boolean;
  /** Calls `onChange` whenever the answer may have changed; returns what stops that. */
  watch(onChange: () => void): () => void;
}

/**
 * The page's focus: visible and focused. Null outside a browser: a client without a page never
 * reports, so the server never counts it as attending (SPEC §9.2).
 */
export function pageFocus(): FocusSource | null {
  if (typeof document === 'undefined' || typeof window === 'undefined') return null;
  return {
    focused: () => document.visibilityState === 'visible' && document.hasFocus(),
    watch(onChange) {
      document.addEventListener('visibilitychange', onChange);
      window.addEventListener('focus', onChange);
      window.addEventListener('blur', onChange);
      return () => {
        document.removeEventListener('visibilitychange', onChange);
        window.removeEventListener('focus', onChange);
        window.removeEventListener('blur', onChange);
      };
    },
  };
}

type PresenceSender = (focused: boolean) => Promise<Ack<EventResult<'presence'>>>;

/** How long to wait before asking again after a refusal without `retry_after_ms`. */
const RETRY_MS = 2000;

/**
 * Reports `presence { focused }` (SPEC §9.2) while connected: whenever focus changes, and after
 * every (re)connect, since the server forgets a socket's report when it disconnects. Only what
 * the server does not know yet is sent; a refused report is sent again after a while.
 */
export class PresenceReporter {
  /** What the server knows of this socket; null: unknown (a report was refused). */
  private told: boolean | null = null;
  private online = false;
  /** Counts reports, so that only the answer to the newest one counts. */
  private sends = 0;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private unwatch: (() => void) | null = null;

  constructor(
    private readonly source: FocusSource,
    private readonly send: PresenceSender,
  ) {}

  start(): void {
    this.unwatch ??= this.source.watch(this.report);
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.disconnected();
  }

  /** A new connection: to the server it is not attending until it reports otherwise. */
  connected(): void {
    this.online = true;
    this.told = false;
    this.report();
  }

  disconnected(): void {
    this.online = false;
    this.cancelRetry();
    // An answer still on its way was about the old socket.
    this.sends++;
  }

  private cancelRetry(): void {
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
  }

  private report = (): void => {
    if (!this.online) return;
    const focused = this.source.focused();
    if (focused === this.told) return;
    // This report says what the pending retry would have said, or newer.
    this.cancelRetry();
    this.told = focused;
    const mine = ++this.sends;
    void this.send(focused).then((r) => {
      if (r.ok || mine !== this.sends) return;
      debug('presence refused', r.error);
      this.told = null;
      // An older server does not know the event and would refuse it every time: the next
      // change or reconnect reports again. Otherwise the server may go on thinking the user
      // looks at the chat (and hold their pushes back), so ask again.
      if (r.error.code === 'invalid_payload' || !this.online) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.report();
      }, r.error.retry_after_ms ?? RETRY_MS);
    });
  };
}
