import { io, type Socket } from 'socket.io-client';
import { debug } from './debug';
import { mergeMessages } from './messages';
import { Outbox, type OutboxEntry } from './outbox';
import { PresenceReporter, pageFocus, type FocusSource } from './presence';
import { Store } from './store';
import type {
  Ack,
  ApiError,
  Chat,
  ChatClosedEvent,
  ClientToServerEvents,
  EventPayload,
  ErrorCode,
  EventResult,
  JoinPayload,
  Message,
  MessagesReadEvent,
  Participant,
  SendKind,
  ServerToClientEvents,
  TokenExpiredEvent,
  User,
  UserStatusEvent,
  UserTypingEvent,
} from './types';

/** The part of a socket.io-client `Socket` the client uses (a fake one in tests). */
export interface SocketLike {
  readonly connected: boolean;
  on(event: string, fn: (...args: never[]) => void): unknown;
  off(event: string, fn?: (...args: never[]) => void): unknown;
  emit(event: string, ...args: unknown[]): unknown;
  connect(): unknown;
  disconnect(): unknown;
}

export type AuthCallback = (cb: (data: { token?: string }) => void) => void;
export type SocketFactory = (url: string, auth: AuthCallback) => SocketLike;

export interface ChatClientOptions {
  /** The signed-in user (its id tells own messages apart). */
  user: User;
  /** A valid token; called on every (re)connect, so it may mint a fresh one. */
  getToken: () => string | Promise<string>;
  /** Server origin; empty for the page's own origin. */
  url?: string;
  socketFactory?: SocketFactory;
  /** Where the outbox is persisted; `null` keeps it in memory. Default: localStorage. */
  storage?: Storage | null;
  ackTimeoutMs?: number;
  /**
   * Whether the user looks at the chat, reported as `presence` (SPEC §9.2) so the server
   * notifies elsewhere when not. Default: the page's focus and visibility (none outside a
   * browser); `null`: never report.
   */
  focus?: FocusSource | null;
}

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'error';

export interface ChatState {
  chatId: string;
  chat: Chat | null;
  /** Confirmed messages, oldest first, sorted by seq, unique. */
  messages: Message[];
  /** Own messages not acknowledged yet (the outbox entries of this chat). */
  pending: OutboxEntry[];
  hasMore: boolean;
  loadingOlder: boolean;
  joined: boolean;
  error: ApiError | null;
  participants: Record<string, Participant>;
  /** user id → typing now */
  typing: Record<string, boolean>;
}

export interface ClientState {
  connection: ConnectionState;
  connectionError: ApiError | null;
  me: User;
  chats: Record<string, ChatState>;
}

export type ClientEvents = ServerToClientEvents & { connect: () => void; disconnect: (reason: string) => void };

export type DeliveryStatus = 'sending' | 'sent' | 'read' | 'failed';

const RETRYABLE: ReadonlySet<string> = new Set(['timeout', 'unavailable', 'internal', 'network']);
const MAX_ATTEMPTS = 6;

export function randomId(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The claims of a JWT (not verified: the server does that), or null. */
export function tokenClaims(token: string): Record<string, unknown> | null {
  try {
    const part = token.split('.')[1];
    if (!part) return null;
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
    const json = new TextDecoder().decode(Uint8Array.from(bin, (ch) => ch.charCodeAt(0)));
    const claims: unknown = JSON.parse(json);
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Seconds-since-epoch `exp` of a JWT, or null. */
export function tokenExpiry(token: string): number | null {
  const exp = tokenClaims(token)?.exp;
  return typeof exp === 'number' ? exp : null;
}

/** The JWT claim `locale` (a BCP 47 tag such as `de` or `ar-EG`, SPEC §9.5), or null. */
export function tokenLocale(token: string): string | null {
  const locale = tokenClaims(token)?.locale;
  return typeof locale === 'string' && locale.trim() ? locale.trim() : null;
}

/** Handshake refusals that mean "try again later" (SPEC §4 codes). */
const BUSY_CODES: ReadonlySet<string> = new Set<ErrorCode>(['rate_limited', 'unavailable', 'internal']);
const isBusy = (code: string): code is ErrorCode => BUSY_CODES.has(code);

/**
 * The wait before retrying the `n`th busy refusal in a row (from 0): 1 s doubling up to 30 s,
 * each spread ±50 % at random.
 */
export function busyRetryDelay(n: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(n, 5));
  return Math.round(base * (0.5 + random()));
}

const defaultFactory: SocketFactory = (url, auth) => {
  const opts = {
    path: '/socket.io/',
    auth,
    autoConnect: false,
    transports: ['websocket', 'polling'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 8000,
  };
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = url ? io(url, opts) : io(opts);
  return socket as unknown as SocketLike;
};

function emptyChat(chatId: string): ChatState {
  return {
    chatId,
    chat: null,
    messages: [],
    pending: [],
    hasMore: false,
    loadingOlder: false,
    joined: false,
    error: null,
    participants: {},
    typing: {},
  };
}

/** The last seq of the gap-free run that starts at the oldest loaded message (0 if none). */
export function contiguousEnd(messages: readonly Message[]): number {
  if (messages.length === 0) return 0;
  let end = messages[0]!.seq;
  for (let i = 1; i < messages.length; i++) {
    const seq = messages[i]!.seq;
    if (seq !== end + 1) break;
    end = seq;
  }
  return end;
}

const targetKey = (t: JoinPayload): string => ('chat_id' in t ? `c:${t.chat_id}` : `b:${t.booking_id}`);

/**
 * The framework-free chat client: one socket, the chats it joined, an outbox that retries sends
 * with the same client_id until acknowledged (persisted across reloads), catch-up after every
 * reconnect, typing throttling, read receipts and presence as state; reports whether its page
 * is in front of the user (`presence`, SPEC §9.2).
 */
export class ChatClient {
  readonly store: Store<ClientState>;
  private socket: SocketLike | null = null;
  private readonly opts: ChatClientOptions;
  private readonly outbox: Outbox;
  private readonly ackTimeoutMs: number;
  private readonly wanted = new Map<string, JoinPayload>();
  private readonly inflight = new Map<number, (r: Ack<never>) => void>();
  private ackSeq = 0;
  private flushing = false;
  private flushAgain = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  private authFailures = 0;
  /** Handshakes refused as busy in a row (see `busyRetryDelay`). */
  private busyRefusals = 0;
  private closed = false;
  private readonly typingOut = new Map<string, { lastSent: number; idle?: ReturnType<typeof setTimeout> }>();
  private readonly typingIn = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly readInFlight = new Map<string, number>();
  private readonly catchingUp = new Set<string>();
  private readonly listeners = new Map<string, Set<(...args: never[]) => void>>();
  private readonly presence: PresenceReporter | null;

  constructor(opts: ChatClientOptions) {
    this.opts = opts;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 10_000;
    const focus = opts.focus === undefined ? pageFocus() : opts.focus;
    this.presence = focus ? new PresenceReporter(focus, (focused) => this.emitAck('presence', { focused })) : null;
    const storage = opts.storage === undefined ? (globalThis.localStorage ?? null) : opts.storage;
    this.outbox = new Outbox(`omw_chat_outbox:${opts.user.id}`, storage);
    this.store = new Store<ClientState>({ connection: 'idle', connectionError: null, me: opts.user, chats: {} });
  }

  get me(): User {
    return this.opts.user;
  }

  getState = (): ClientState => this.store.getState();
  subscribe = (fn: () => void): (() => void) => this.store.subscribe(fn);

  /** Listen to server events (and `connect`/`disconnect`) at the application level. */
  on<E extends keyof ClientEvents>(event: E, fn: ClientEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    const f = fn as unknown as (...args: never[]) => void;
    set.add(f);
    return () => {
      set.delete(f);
    };
  }

  private fire<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try {
        (fn as unknown as (...a: Parameters<ClientEvents[E]>) => void)(...args);
      } catch (err) {
        console.error('[omw-chat] listener failed', err);
      }
    }
  }

  // ---------------------------------------------------------------- connection

  connect(): void {
    if (this.socket) return;
    this.closed = false;
    const auth: AuthCallback = (cb) => {
      Promise.resolve()
        .then(() => this.opts.getToken())
        .then((token) => {
          this.scheduleRefresh(token);
          cb({ token });
        })
        .catch((err: unknown) => {
          debug('getToken failed', err);
          cb({});
        });
    };
    const socket = (this.opts.socketFactory ?? defaultFactory)(this.opts.url ?? '', auth);
    this.socket = socket;
    socket.on('connect', this.onConnect);
    socket.on('disconnect', this.onDisconnect);
    socket.on('connect_error', this.onConnectError);
    socket.on('new_message', this.onNewMessage);
    socket.on('user_typing', this.onUserTyping);
    socket.on('messages_read', this.onMessagesRead);
    socket.on('user_status_update', this.onUserStatus);
    socket.on('chat_available', this.onChatAvailable);
    socket.on('chat_closed', this.onChatClosed);
    socket.on('token_expired', this.onTokenExpired);
    this.setConnection('connecting', null);
    this.presence?.start();
    socket.connect();
  }

  /** Disconnect and stop every timer (the outbox stays persisted). */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const t of this.typingOut.values()) if (t.idle) clearTimeout(t.idle);
    for (const t of this.typingIn.values()) clearTimeout(t);
    this.presence?.stop();
    this.failInflight();
    const s = this.socket;
    this.socket = null;
    if (s) {
      for (const ev of ['connect', 'disconnect', 'connect_error', 'new_message', 'user_typing', 'messages_read', 'user_status_update', 'chat_available', 'chat_closed', 'token_expired']) s.off(ev);
      s.disconnect();
    }
    this.setConnection('idle', null);
  }

  private setConnection(connection: ConnectionState, connectionError: ApiError | null): void {
    this.store.setState((s) =>
      s.connection === connection && s.connectionError === connectionError ? s : { ...s, connection, connectionError },
    );
  }

  private onConnect = (): void => {
    debug('connected');
    this.authFailures = 0;
    this.busyRefusals = 0;
    this.setConnection('connected', null);
    this.presence?.connected();
    this.fire('connect');
    void this.resync();
  };

  private onDisconnect = (reason: string): void => {
    debug('disconnected', reason);
    this.presence?.disconnected();
    this.failInflight();
    this.store.setState((s) => ({
      ...s,
      connection: 'disconnected',
      chats: Object.fromEntries(Object.entries(s.chats).map(([k, c]) => [k, { ...c, joined: false, typing: {} }])),
    }));
    this.fire('disconnect', reason);
    // The server ended the session (e.g. an expired token): reconnect with a fresh token.
    if (reason === 'io server disconnect' && !this.closed) {
      setTimeout(() => {
        if (!this.closed && this.socket && !this.socket.connected) this.socket.connect();
      }, 1000);
    }
  };

  private onConnectError = (err: { message?: string }): void => {
    const code = err?.message ?? 'network';
    debug('connect_error', code);
    if (code === 'unauthorized' || code === 'forbidden') {
      this.setConnection('error', { code, message: code === 'unauthorized' ? 'Sign-in expired or invalid' : 'Not allowed' });
      // A refused handshake is not retried by socket.io itself; retry a few times (a fresh token may help).
      if (code === 'unauthorized' && this.authFailures++ < 5 && !this.closed) {
        setTimeout(() => {
          if (!this.closed && this.socket && !this.socket.connected) this.socket.connect();
        }, 1000 * 2 ** this.authFailures);
      }
    } else if (isBusy(code)) {
      // The server is busy (admission control, a socket cap, a restart): not retried by
      // socket.io either. Retry with a randomized, growing delay so that thousands of clients
      // refused together do not come back together.
      this.setConnection('disconnected', { code, message: code });
      const delay = busyRetryDelay(this.busyRefusals++);
      setTimeout(() => {
        if (!this.closed && this.socket && !this.socket.connected) this.socket.connect();
      }, delay);
    } else {
      this.setConnection('disconnected', { code: 'network', message: code });
    }
  };

  private onTokenExpired = (e: TokenExpiredEvent): void => {
    debug('token expired');
    this.fire('token_expired', e);
  };

  private scheduleRefresh(token: string): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    const exp = tokenExpiry(token);
    if (!exp) return;
    const delay = Math.max(5_000, exp * 1000 - Date.now() - 60_000);
    if (delay > 2 ** 31 - 1) return;
    this.refreshTimer = setTimeout(() => {
      void (async () => {
        try {
          const fresh = await this.opts.getToken();
          const r = await this.emitAck('refresh_token', { token: fresh });
          debug('refresh_token', r);
          if (r.ok) this.scheduleRefresh(fresh);
        } catch (err) {
          debug('token refresh failed', err);
        }
      })();
    }, delay);
  }

  private emitAck<E extends keyof ClientToServerEvents>(
    event: E,
    payload: EventPayload<E>,
    timeoutMs = this.ackTimeoutMs,
  ): Promise<Ack<EventResult<E>>> {
    return new Promise((resolve) => {
      const socket = this.socket;
      if (!socket || !socket.connected) {
        resolve({ ok: false, error: { code: 'disconnected', message: 'Not connected' } });
        return;
      }
      const id = ++this.ackSeq;
      const finish = (r: Ack<EventResult<E>>): void => {
        if (!this.inflight.has(id)) return;
        this.inflight.delete(id);
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => finish({ ok: false, error: { code: 'timeout', message: 'No answer from the server' } }), timeoutMs);
      this.inflight.set(id, finish as (r: Ack<never>) => void);
      debug('→', event, payload);
      socket.emit(event, payload, (r: Ack<EventResult<E>> | undefined) => {
        debug('←', event, r);
        finish(r && typeof r === 'object' ? r : { ok: false, error: { code: 'internal', message: 'Malformed answer' } });
      });
    });
  }

  private failInflight(): void {
    // Each finish() removes itself from the map.
    const all = [...this.inflight.values()];
    for (const f of all) f({ ok: false, error: { code: 'disconnected', message: 'Connection lost' } } as Ack<never>);
  }

  /** After every (re)connect: join every wanted chat, catch up, flush the outbox. */
  private async resync(): Promise<void> {
    await Promise.all([...this.wanted.values()].map((t) => this.doJoin(t).catch(() => undefined)));
    void this.flush();
  }

  // ---------------------------------------------------------------- chats

  private updateChat(chatId: string, fn: (c: ChatState) => ChatState, create = false): void {
    this.store.setState((s) => {
      const cur = s.chats[chatId] ?? (create ? emptyChat(chatId) : undefined);
      if (!cur) return s;
      const next = fn(cur);
      if (next === cur && s.chats[chatId]) return s;
      return { ...s, chats: { ...s.chats, [chatId]: next } };
    });
  }

  chat(chatId: string): ChatState | undefined {
    return this.store.getState().chats[chatId];
  }

  /**
   * Join a chat (by chat or booking id) now and after every reconnect. Resolves with the chat
   * state once joined; rejects with the ApiError if the server refuses.
   */
  async join(target: JoinPayload): Promise<ChatState> {
    this.wanted.set(targetKey(target), target);
    if (!this.socket) this.connect();
    if (!this.socket?.connected) {
      await new Promise<void>((resolve) => {
        const off = this.on('connect', () => {
          off();
          resolve();
        });
      });
      // resync() joins it; wait for that join to land.
    }
    return this.doJoin(target);
  }

  private async doJoin(target: JoinPayload): Promise<ChatState> {
    const r = await this.emitAck('join_chat', target);
    if (!r.ok) {
      if ('chat_id' in target) this.updateChat(target.chat_id, (c) => ({ ...c, error: r.error, joined: false }), true);
      if (r.error.code === 'forbidden' || r.error.code === 'not_found') this.wanted.delete(targetKey(target));
      throw r.error;
    }
    const chatId = r.chat.id;
    // From now on re-join by chat id.
    this.wanted.delete(targetKey(target));
    this.wanted.set(targetKey({ chat_id: chatId }), { chat_id: chatId });
    const prevLast = contiguousEnd(this.chat(chatId)?.messages ?? []);
    this.updateChat(
      chatId,
      (c) => ({
        ...c,
        chat: r.chat,
        messages: mergeMessages(c.messages, r.messages),
        hasMore: c.messages.length === 0 ? r.has_more : c.hasMore,
        joined: true,
        error: null,
        participants: Object.fromEntries(r.participants.map((p) => [p.id, p])),
        pending: this.outbox.all().filter((e) => e.chat_id === chatId),
      }),
      true,
    );
    this.dropAcked(chatId, r.messages);
    if (prevLast > 0) await this.catchUp(chatId, prevLast);
    void this.flush();
    return this.chat(chatId)!;
  }

  /** Load everything after `afterSeq`, page by page, until the server has no more. */
  private async catchUp(chatId: string, afterSeq: number): Promise<void> {
    if (this.catchingUp.has(chatId)) return;
    this.catchingUp.add(chatId);
    try {
      await this.catchUpPages(chatId, afterSeq);
    } finally {
      this.catchingUp.delete(chatId);
    }
  }

  private async catchUpPages(chatId: string, afterSeq: number): Promise<void> {
    let after = afterSeq;
    for (let page = 0; page < 1000; page++) {
      const r = await this.emitAck('load_messages', { chat_id: chatId, after_seq: after, limit: 100 });
      if (!r.ok) return;
      this.addMessages(chatId, r.messages);
      const last = r.messages.reduce((m, x) => Math.max(m, x.seq), after);
      if (!r.has_more || last <= after) return;
      after = last;
    }
  }

  leave(chatId: string): void {
    this.wanted.delete(targetKey({ chat_id: chatId }));
    for (const [k, t] of this.wanted) if ('booking_id' in t && this.chat(chatId)?.chat?.booking_id === t.booking_id) this.wanted.delete(k);
    this.updateChat(chatId, (c) => ({ ...c, joined: false }));
    if (this.socket?.connected) void this.emitAck('leave_chat', { chat_id: chatId });
  }

  /** Forget a chat's state entirely (e.g. after it was deleted). */
  forget(chatId: string): void {
    this.leave(chatId);
    this.store.setState((s) => {
      if (!s.chats[chatId]) return s;
      const chats = { ...s.chats };
      delete chats[chatId];
      return { ...s, chats };
    });
  }

  /** Load the page before the oldest loaded message. */
  async loadOlder(chatId: string, limit = 50): Promise<void> {
    const c = this.chat(chatId);
    if (!c || c.loadingOlder || !c.hasMore) return;
    const oldest = c.messages[0]?.seq;
    this.updateChat(chatId, (x) => ({ ...x, loadingOlder: true }));
    const r = await this.emitAck('load_messages', oldest ? { chat_id: chatId, before_seq: oldest, limit } : { chat_id: chatId, limit });
    this.updateChat(chatId, (x) =>
      r.ok
        ? { ...x, loadingOlder: false, hasMore: r.has_more, messages: mergeMessages(x.messages, r.messages) }
        : { ...x, loadingOlder: false },
    );
  }

  private addMessages(chatId: string, messages: Message[]): void {
    if (messages.length === 0) return;
    this.updateChat(chatId, (c) => {
      const merged = mergeMessages(c.messages, messages);
      const lastSeq = merged.at(-1)?.seq ?? 0;
      const chat = c.chat && lastSeq > c.chat.last_seq ? { ...c.chat, last_seq: lastSeq } : c.chat;
      return merged === c.messages && chat === c.chat ? c : { ...c, messages: merged, chat };
    });
    this.dropAcked(chatId, messages);
  }

  /** Own messages that reached the server leave the outbox. */
  private dropAcked(chatId: string, messages: Message[]): void {
    let changed = false;
    for (const m of messages) {
      if (m.client_id && m.sender.id === this.me.id && this.outbox.remove(m.client_id)) changed = true;
    }
    if (changed) this.syncPending(chatId);
  }

  private syncPending(chatId: string): void {
    const pending = this.outbox.all().filter((e) => e.chat_id === chatId);
    this.updateChat(chatId, (c) => ({ ...c, pending }), true);
  }

  // ---------------------------------------------------------------- sending

  /**
   * Queue a message. It is kept (also across reloads) and retried with the same client_id
   * until the server acknowledges it. Returns the client_id.
   */
  send(
    chatId: string,
    msg: { kind?: SendKind; body?: string; attachment_id?: string; preview?: OutboxEntry['preview'] },
  ): string {
    const client_id = randomId();
    const body = msg.body?.trim() ? msg.body : undefined;
    this.outbox.add({
      client_id,
      chat_id: chatId,
      kind: msg.kind ?? 'text',
      ...(body !== undefined ? { body } : {}),
      ...(msg.attachment_id ? { attachment_id: msg.attachment_id } : {}),
      ...(msg.preview ? { preview: msg.preview } : {}),
      created_at: new Date().toISOString(),
      status: 'sending',
      attempts: 0,
    });
    // Sending ends typing on the server; reset the throttle locally.
    const t = this.typingOut.get(chatId);
    if (t) {
      if (t.idle) clearTimeout(t.idle);
      this.typingOut.delete(chatId);
    }
    this.syncPending(chatId);
    void this.flush();
    return client_id;
  }

  /** Send a failed message again (same client_id). */
  retry(clientId: string): void {
    const e = this.outbox.get(clientId);
    if (!e) return;
    this.outbox.update(clientId, { status: 'sending', attempts: 0, error: undefined });
    this.syncPending(e.chat_id);
    void this.flush();
  }

  /** Drop a pending or failed message. */
  discard(clientId: string): void {
    const e = this.outbox.get(clientId);
    if (!e) return;
    this.outbox.remove(clientId);
    this.syncPending(e.chat_id);
  }

  private scheduleFlush(delay: number): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, delay);
  }

  /** Send every pending entry, in order, one at a time. */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.flushAgain = false;
        for (const snapshot of this.outbox.all()) {
          if (!this.socket?.connected) return;
          const entry = this.outbox.get(snapshot.client_id);
          if (!entry || entry.status !== 'sending') continue;
          if (!(await this.sendOne(entry))) return;
        }
      } while (this.flushAgain);
    } finally {
      this.flushing = false;
      // Someone asked for a flush while this one was winding down (e.g. a reconnect).
      if (this.flushAgain && this.socket?.connected) {
        this.flushAgain = false;
        void this.flush();
      }
    }
  }

  /** false: stop flushing for now (a retry is scheduled or the socket is down). */
  private async sendOne(entry: OutboxEntry): Promise<boolean> {
    const payload = {
      chat_id: entry.chat_id,
      client_id: entry.client_id,
      kind: entry.kind,
      ...(entry.body !== undefined ? { body: entry.body } : {}),
      ...(entry.attachment_id ? { attachment_id: entry.attachment_id } : {}),
    };
    const r = await this.emitAck('send_message', payload);
    if (r.ok) {
      this.outbox.remove(entry.client_id);
      this.addMessages(entry.chat_id, [r.message]);
      this.syncPending(entry.chat_id);
      return true;
    }
    const err = r.error;
    if (!this.outbox.get(entry.client_id)) return true; // discarded meanwhile
    if (err.code === 'disconnected') return false;
    if (err.code === 'rate_limited') {
      this.scheduleFlush(Math.max(250, err.retry_after_ms ?? 1000));
      return false;
    }
    if (RETRYABLE.has(err.code)) {
      const attempts = entry.attempts + 1;
      if (attempts < MAX_ATTEMPTS) {
        this.outbox.update(entry.client_id, { attempts });
        this.scheduleFlush(Math.min(500 * 2 ** attempts, 15_000));
        return false;
      }
    }
    this.outbox.update(entry.client_id, { status: 'failed', error: err });
    this.syncPending(entry.chat_id);
    return true;
  }

  // ---------------------------------------------------------------- typing, read, presence

  /** Call on every keystroke: sends `is_typing: true` at most every 2 s, `false` after 3 s idle. */
  typing(chatId: string): void {
    const now = Date.now();
    const t = this.typingOut.get(chatId) ?? { lastSent: 0 };
    if (now - t.lastSent > 2000) {
      t.lastSent = now;
      void this.emitAck('typing', { chat_id: chatId, is_typing: true });
    }
    if (t.idle) clearTimeout(t.idle);
    t.idle = setTimeout(() => this.stopTyping(chatId), 3000);
    this.typingOut.set(chatId, t);
  }

  stopTyping(chatId: string): void {
    const t = this.typingOut.get(chatId);
    if (!t) return;
    if (t.idle) clearTimeout(t.idle);
    this.typingOut.delete(chatId);
    void this.emitAck('typing', { chat_id: chatId, is_typing: false });
  }

  /** Mark everything up to `upToSeq` (default: the newest message) read. */
  async markRead(chatId: string, upToSeq?: number): Promise<void> {
    const c = this.chat(chatId);
    if (!c || c.chat?.status === 'closed') return;
    const upTo = upToSeq ?? c.messages.at(-1)?.seq ?? 0;
    const mine = c.participants[this.me.id]?.last_read_seq ?? 0;
    if (upTo <= mine || upTo <= (this.readInFlight.get(chatId) ?? 0)) return;
    this.readInFlight.set(chatId, upTo);
    this.setReadSeq(chatId, this.me.id, upTo);
    const r = await this.emitAck('mark_read', { chat_id: chatId, up_to_seq: upTo });
    this.readInFlight.delete(chatId);
    if (r.ok) this.setReadSeq(chatId, this.me.id, r.last_read_seq);
  }

  private setReadSeq(chatId: string, userId: string, seq: number): void {
    this.updateChat(chatId, (c) => {
      const p = c.participants[userId];
      if (!p || p.last_read_seq >= seq) return c;
      return { ...c, participants: { ...c.participants, [userId]: { ...p, last_read_seq: seq } } };
    });
  }

  private onNewMessage = (e: { message: Message }): void => {
    const m = e?.message;
    if (!m) return;
    debug('new_message', m.chat_id, m.seq);
    const known = this.chat(m.chat_id);
    const end = contiguousEnd(known?.messages ?? []);
    this.addMessages(m.chat_id, [m]);
    // A gap (something was missed): fetch what lies between.
    if (known?.joined && end > 0 && m.seq > end + 1) void this.catchUp(m.chat_id, end);
    if (m.sender.id !== this.me.id) this.setTyping(m.chat_id, m.sender.id, false);
    this.fire('new_message', e);
  };

  private setTyping(chatId: string, userId: string, isTyping: boolean): void {
    const key = `${chatId}\u0000${userId}`;
    const t = this.typingIn.get(key);
    if (t) clearTimeout(t);
    this.typingIn.delete(key);
    if (isTyping) this.typingIn.set(key, setTimeout(() => this.setTyping(chatId, userId, false), 7000));
    this.updateChat(chatId, (c) => (Boolean(c.typing[userId]) === isTyping ? c : { ...c, typing: { ...c.typing, [userId]: isTyping } }));
  }

  private onUserTyping = (e: UserTypingEvent): void => {
    if (e.user_id === this.me.id) return;
    this.setTyping(e.chat_id, e.user_id, e.is_typing);
  };

  private onMessagesRead = (e: MessagesReadEvent): void => {
    this.setReadSeq(e.chat_id, e.user_id, e.up_to_seq);
    this.fire('messages_read', e);
  };

  private onUserStatus = (e: UserStatusEvent): void => {
    this.store.setState((s) => {
      let changed = false;
      const chats = { ...s.chats };
      for (const [id, c] of Object.entries(s.chats)) {
        const p = c.participants[e.user_id];
        if (!p) continue;
        changed = true;
        chats[id] = {
          ...c,
          participants: { ...c.participants, [e.user_id]: { ...p, online: e.status === 'online', last_seen: e.last_seen } },
          typing: e.status === 'offline' ? { ...c.typing, [e.user_id]: false } : c.typing,
        };
      }
      return changed ? { ...s, chats } : s;
    });
    this.fire('user_status_update', e);
  };

  private onChatAvailable = (e: { chat: Chat }): void => {
    debug('chat_available', e.chat.id);
    this.fire('chat_available', e);
  };

  private onChatClosed = (e: ChatClosedEvent): void => {
    debug('chat_closed', e);
    this.wanted.delete(targetKey({ chat_id: e.chat_id }));
    this.updateChat(
      e.chat_id,
      (c) => ({
        ...c,
        joined: false,
        typing: {},
        chat: c.chat
          ? {
              ...c.chat,
              status: 'closed',
              close_reason: e.reason,
              closed_at: new Date().toISOString(),
              booking_status: e.reason === 'cancelled' ? 'cancelled' : e.reason === 'completed' ? 'completed' : c.chat.booking_status,
            }
          : c.chat,
      }),
    );
    // Nothing can be delivered into a closed chat any more.
    for (const entry of this.outbox.all()) {
      if (entry.chat_id === e.chat_id && entry.status === 'sending') {
        this.outbox.update(entry.client_id, { status: 'failed', error: { code: 'chat_closed', message: 'The chat is closed' } });
      }
    }
    this.syncPending(e.chat_id);
    this.fire('chat_closed', e);
  };
}

// ---------------------------------------------------------------- derived state helpers

/** Messages from the counterpart after my read position (system messages excluded). */
export function unreadCount(c: ChatState | undefined, meId: string): number {
  if (!c) return 0;
  const read = c.participants[meId]?.last_read_seq ?? 0;
  return c.messages.filter((m) => m.seq > read && m.sender.id !== meId && m.kind !== 'system').length;
}

/** The other participant of a 1:1 chat. */
export function counterpart(c: ChatState | undefined, meId: string): Participant | undefined {
  if (!c) return undefined;
  const other = Object.values(c.participants).find((p) => p.id !== meId);
  if (other) return other;
  const chat = c.chat;
  if (!chat) return undefined;
  const party = chat.customer.id === meId ? { ...chat.worker, role: 'worker' as const } : { ...chat.customer, role: 'customer' as const };
  return { ...party, online: false, last_seen: null, last_read_seq: 0 };
}

export function deliveryStatus(m: Message, c: ChatState, meId: string): DeliveryStatus {
  const other = counterpart(c, meId);
  return other && other.last_read_seq >= m.seq ? 'read' : 'sent';
}
