// Wire types of the omw-chat contract (SPEC §3–§5).

export type Role = 'customer' | 'worker';
export type SenderRole = Role | 'system';
export type MessageKind = 'text' | 'image' | 'file' | 'audio' | 'system';
export type SendKind = Exclude<MessageKind, 'system'>;
export type BookingStatus = 'requested' | 'accepted' | 'en_route' | 'in_progress' | 'completed' | 'cancelled';

export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'chat_closed'
  | 'rate_limited'
  | 'invalid_payload'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'conflict'
  | 'unavailable'
  | 'internal'
  // client-side only
  | 'timeout'
  | 'disconnected'
  | 'network';

/** Values an error or a system message carries for its translation (SPEC §9.5). */
export type I18nParams = Record<string, string | number | boolean | null>;

export interface ApiError {
  code: ErrorCode;
  /** English text for logs and old clients; a UI translates `code` (+ `params`), never this. */
  message: string;
  retry_after_ms?: number;
  /** Optional details for the translation (SPEC §9.5), e.g. `{ max_bytes }`. */
  params?: I18nParams;
}

/**
 * The codes of the system messages the server writes into a chat (SPEC §3, §9.5). Each comes
 * with the English `body` for clients that do not know the code; the web client renders the
 * code in the reader's language and falls back to `body` for a code it does not know.
 */
export type SystemCode =
  /** The booking was accepted and the chat opened. params: `worker_name?` */
  | 'chat_opened'
  /** The worker is on the way. params: `worker_name?` */
  | 'worker_en_route'
  /** The service started. */
  | 'service_started'
  /** The service was completed; the chat is closed. */
  | 'service_completed'
  /** The booking was cancelled; the chat is closed. */
  | 'booking_cancelled';

/** `message.system` (SPEC §9.5): what a `system` message says, as a code and its parameters. */
export interface SystemInfo {
  /** A `SystemCode`, or a newer server's code this client does not know yet (then: `body`). */
  code: SystemCode | (string & {});
  params?: I18nParams;
}

export interface Party {
  id: string;
  name: string;
}

export interface User extends Party {
  role: Role;
}

export interface Attachment {
  id: string;
  name: string;
  mime: string;
  size: number;
  url: string;
  thumb_url?: string | null;
  width?: number | null;
  height?: number | null;
  duration_ms?: number | null;
}

export interface Message {
  id: string;
  chat_id: string;
  seq: number;
  sender: { id: string; role: SenderRole; name: string };
  kind: MessageKind;
  body: string | null;
  attachment: Attachment | null;
  client_id: string | null;
  created_at: string;
  /** System messages only (SPEC §9.5); absent from servers that send the English `body` alone. */
  system?: SystemInfo | null;
}

export interface Chat {
  id: string;
  booking_id: string;
  status: 'active' | 'closed';
  booking_status: BookingStatus;
  customer: Party;
  worker: Party;
  last_seq: number;
  created_at: string;
  closed_at: string | null;
  close_reason: string | null;
}

export interface Participant {
  id: string;
  role: Role;
  name: string;
  online: boolean;
  last_seen: string | null;
  last_read_seq: number;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

export interface JoinResult {
  chat: Chat;
  messages: Message[];
  has_more: boolean;
  participants: Participant[];
}
export interface MessagesPage {
  messages: Message[];
  has_more: boolean;
}

export type JoinPayload = { chat_id: string } | { booking_id: string };
export interface SendPayload {
  chat_id: string;
  client_id: string;
  kind: SendKind;
  body?: string;
  attachment_id?: string;
}
export interface LoadPayload {
  chat_id: string;
  before_seq?: number;
  after_seq?: number;
  limit?: number;
}

type AckFn<T> = (ack: Ack<T>) => void;

export interface ClientToServerEvents {
  join_chat: (p: JoinPayload, ack: AckFn<JoinResult>) => void;
  leave_chat: (p: { chat_id: string }, ack: AckFn<object>) => void;
  send_message: (p: SendPayload, ack: AckFn<{ message: Message }>) => void;
  load_messages: (p: LoadPayload, ack: AckFn<MessagesPage>) => void;
  typing: (p: { chat_id: string; is_typing: boolean }, ack: AckFn<object>) => void;
  mark_read: (p: { chat_id: string; up_to_seq: number }, ack: AckFn<{ last_read_seq: number }>) => void;
  refresh_token: (p: { token: string }, ack: AckFn<{ expires_at?: string }>) => void;
}

export interface UserTypingEvent {
  chat_id: string;
  user_id: string;
  is_typing: boolean;
}
export interface MessagesReadEvent {
  chat_id: string;
  user_id: string;
  up_to_seq: number;
  read_at: string;
}
export interface UserStatusEvent {
  user_id: string;
  status: 'online' | 'offline';
  last_seen: string | null;
}
export interface ChatClosedEvent {
  chat_id: string;
  booking_id: string;
  reason: string;
}

export interface ServerToClientEvents {
  new_message: (e: { message: Message }) => void;
  user_typing: (e: UserTypingEvent) => void;
  messages_read: (e: MessagesReadEvent) => void;
  user_status_update: (e: UserStatusEvent) => void;
  chat_available: (e: { chat: Chat }) => void;
  chat_closed: (e: ChatClosedEvent) => void;
  token_expired: (e?: unknown) => void;
}

/** Payload of a client → server event. */
export type EventPayload<E extends keyof ClientToServerEvents> = Parameters<ClientToServerEvents[E]>[0];
/** Ack of a client → server event (the `ok: true` shape). */
export type EventResult<E extends keyof ClientToServerEvents> =
  Parameters<Parameters<ClientToServerEvents[E]>[1]>[0] extends Ack<infer T> ? T : never;
