// Generated from the Rust wire types (crates/server/src/wire) by scripts/contract.
// Do not edit: change the Rust types and run scripts/contract.

/**
 * The two kinds of user a token can name.
 */
export type Role = "customer" | "worker";

export type BookingStatus = "requested" | "accepted" | "en_route" | "in_progress" | "completed" | "cancelled";

/**
 * Why a chat closed: the booking reached a final status.
 */
export type CloseReason = "completed" | "cancelled";

export type ChatStatus = "active" | "closed";

/**
 * A customer or a worker as the platform names them.
 */
export type Party = {
  id: string;
  name: string;
};

/**
 * A booking as the platform last said it.
 */
export type Booking = {
  id: string;
  customer: Party;
  worker: Party | null;
  status: BookingStatus;
  /**
   * The appointment (RFC 3339), when the platform gave one (SPEC §9.1).
   */
  starts_at: string | null;
  /**
   * Where the service takes place: ISO 3166-1 alpha-2, upper case (SPEC §9.1).
   */
  region: string | null;
};

/**
 * A booking's chat.
 */
export type Chat = {
  id: string;
  booking_id: string;
  status: ChatStatus;
  booking_status: BookingStatus;
  customer: Party;
  worker: Party;
  /**
   * The seq of the newest message (0 when empty).
   */
  last_seq: number;
  created_at: string;
  closed_at: string | null;
  close_reason: CloseReason | null;
};

export type MessageKind = "text" | "image" | "file" | "audio" | "system";

export type SenderRole = "customer" | "worker" | "system";

/**
 * Who wrote a message: a participant, or the service itself (`system`).
 */
export type Sender = {
  id: string;
  role: SenderRole;
  name: string;
};

/**
 * A stored file as a message shows it. `url`/`thumb_url` are API paths that need the
 * participant's Bearer token.
 */
export type Attachment = {
  id: string;
  name: string;
  mime: string;
  size: number;
  url: string;
  thumb_url?: string;
  width?: number;
  height?: number;
  duration_ms?: number;
};

/**
 * The kinds of system message, named as clients see them.
 */
export type SystemCode = "chat_opened" | "worker_en_route" | "service_started" | "service_completed" | "booking_cancelled";

/**
 * A system message's meaning: `{ "code": …, "params": { … } }` on the wire and in storage.
 */
export type SystemNotice = {
  code: SystemCode;
  /**
   * Always an object on the wire, possibly empty, so clients need not check for it.
   */
  params: { [key in string]: string };
};

/**
 * A stored message as every client sees it.
 */
export type Message = {
  id: string;
  chat_id: string;
  seq: number;
  sender: Sender;
  kind: MessageKind;
  body: string | null;
  attachment: Attachment | null;
  client_id: string | null;
  created_at: string;
  /**
   * What a system message says, beside its English `body`; absent on other messages.
   */
  system?: SystemNotice;
};

/**
 * The error codes of SPEC §4, shared by Socket.IO acks and REST.
 */
export type ErrorCode = "unauthorized" | "forbidden" | "not_found" | "chat_closed" | "rate_limited" | "invalid_payload" | "payload_too_large" | "unsupported_media_type" | "conflict" | "unavailable" | "internal";

/**
 * `{ code, message, retry_after_ms? }` — the `error` object of acks and REST bodies.
 */
export type ApiError = {
  code: ErrorCode;
  /**
   * English, for logs; a UI shows its own text for `code`.
   */
  message: string;
  /**
   * With `rate_limited`: when to try again.
   */
  retry_after_ms?: number;
};

/**
 * `{ error: {…} }`: every refused REST request; a refused Socket.IO event acks
 * `{ ok: false, error: {…} }`.
 */
export type ErrorReply = {
  error: ApiError;
};

/**
 * A Socket.IO payload about one chat: its `chat_id` beside the fields of `T` (REST has the id
 * in the path and sends `T` alone).
 */
export type InChat<T> = {
  chat_id: string;
} & T;

/**
 * `join_chat`: by chat or by booking.
 */
export type JoinChat = {
  chat_id?: string;
  booking_id?: string;
};

/**
 * `leave_chat`.
 */
export type LeaveChat = {
  chat_id: string;
};

/**
 * What a client asked to send, before validation: `send_message` / `POST /chats/{id}/messages`
 * on the wire. Absent fields are refused or defaulted by the message rules (SPEC §3), with a
 * message naming the field.
 */
export type SendMessage = {
  /**
   * The sender's idempotency key: required; a resend with the same key returns the stored
   * message.
   */
  client_id?: string;
  /**
   * `text` (the default), `image`, `file` or `audio`.
   */
  kind?: string;
  /**
   * The text, or a caption for an attachment; at most 4000 characters.
   */
  body?: string;
  /**
   * An upload's id (`POST /chats/{id}/attachments`) for image, file and audio messages.
   */
  attachment_id?: string;
};

/**
 * `load_messages` / `GET /chats/{id}/messages?…`: which page of history, oldest first.
 */
export type PageRequest = {
  /**
   * Messages before this seq (older history); the newest page without it.
   */
  before_seq?: number;
  /**
   * Messages after this seq (catching up after a reconnect).
   */
  after_seq?: number;
  /**
   * Page size, 1–100 (default 50).
   */
  limit?: number;
};

/**
 * `mark_read` / `POST /chats/{id}/read`.
 */
export type MarkRead = {
  up_to_seq: number;
};

/**
 * `typing`.
 */
export type Typing = {
  chat_id: string;
  is_typing: boolean;
};

/**
 * `refresh_token`.
 */
export type RefreshToken = {
  token: string;
};

/**
 * `presence`: whether this socket's page is in front of its user (SPEC §9.2). A user attends a
 * chat while one of their sockets that joined it has reported `focused: true`; the
 * notification ladder leaves them alone there.
 */
export type PresenceReport = {
  focused: boolean;
};

/**
 * `PUT /platform/bookings/{id}`: the booking as the platform has it now.
 */
export type BookingPut = {
  customer: Party;
  /**
   * Absent or null until a worker accepts.
   */
  worker?: Party | null;
  status: BookingStatus;
  /**
   * The appointment, RFC 3339 (SPEC §9.1); absent keeps the stored one.
   */
  starts_at?: string;
  /**
   * ISO 3166-1 alpha-2 (SPEC §9.1); absent keeps the stored one.
   */
  region?: string;
};

/**
 * `PUT /platform/bookings/{id}/hold` (SPEC §9.7): the case that holds the chat.
 */
export type HoldPut = {
  /**
   * The platform's case: one hold per case, idempotent.
   */
  case_ref: string;
  reason?: string;
};

/**
 * A browser's keys for a push subscription (RFC 8291), base64url as `PushSubscription.toJSON()`
 * gives them.
 */
export type PushKeys = {
  /**
   * The browser's P-256 public key (65 bytes, uncompressed).
   */
  p256dh: string;
  /**
   * The authentication secret (16 bytes).
   */
  auth: string;
};

/**
 * `POST /push/subscriptions`: a browser's push subscription, as `PushSubscription.toJSON()`
 * gives it (its `expirationTime` is ignored).
 */
export type PushSubscriptionRequest = {
  /**
   * The push service's URL: `https`, a public host.
   */
  endpoint: string;
  keys: PushKeys;
  expirationTime?: number | null;
};

/**
 * `DELETE /push/subscriptions`.
 */
export type PushUnsubscribe = {
  endpoint: string;
};

/**
 * `{}`: the event was done; nothing else to say.
 */
export type Done = Record<symbol, never>;

/**
 * A stored message (`send_message`, `POST /chats/{id}/messages`).
 */
export type MessageReply = {
  message: Message;
};

/**
 * A page of history, oldest first; `has_more` when older (or newer, with `after_seq`) messages
 * remain.
 */
export type Messages = {
  messages: Array<Message>;
  has_more: boolean;
};

/**
 * One chat.
 */
export type ChatReply = {
  chat: Chat;
};

/**
 * A chat in the list: the chat's fields, its newest message and what the caller has not read.
 */
export type ChatListItem = {
  last_message: Message | null;
  unread_count: number;
  id: string;
  booking_id: string;
  status: ChatStatus;
  booking_status: BookingStatus;
  customer: Party;
  worker: Party;
  /**
   * The seq of the newest message (0 when empty).
   */
  last_seq: number;
  created_at: string;
  closed_at: string | null;
  close_reason: CloseReason | null;
};

/**
 * The caller's chats, newest activity first.
 */
export type Chats = {
  chats: Array<ChatListItem>;
};

/**
 * The caller's read mark after `mark_read` (it never moves back).
 */
export type ReadMark = {
  last_read_seq: number;
};

/**
 * `refresh_token`: when the new token runs out.
 */
export type TokenExpiry = {
  expires_at: string;
};

/**
 * One side of a chat as `join_chat` shows it.
 */
export type Participant = {
  id: string;
  role: Role;
  name: string;
  online: boolean;
  last_seen: string | null;
  last_read_seq: number;
};

/**
 * `join_chat`: the chat, its latest page of history, and both participants.
 */
export type Joined = {
  chat: Chat;
  messages: Array<Message>;
  has_more: boolean;
  participants: Array<Participant>;
};

/**
 * The platform API's view of a booking and its chat.
 */
export type BookingReply = {
  booking: Booking;
  chat: Chat | null;
};

/**
 * A stored upload, to be sent in a message by its id.
 */
export type AttachmentReply = {
  attachment: Attachment;
};

/**
 * `/healthz` and `/readyz`.
 */
export type Health = {
  /**
   * `ok` (healthz); `ready`, `draining` or `unavailable` (readyz).
   */
  status: string;
  /**
   * The database backend answering (`sqlite`, `mysql`, `postgres`), when ready.
   */
  database?: string;
  /**
   * Why the node is not ready.
   */
  error?: string;
};

/**
 * `GET /push/vapid-public-key`: the server's VAPID key (RFC 8292), base64url, for
 * `pushManager.subscribe({ applicationServerKey })`.
 */
export type VapidPublicKey = {
  key: string;
};

/**
 * A dispute hold on a booking's chat (SPEC §9.7).
 */
export type HoldView = {
  booking_id: string;
  chat_id: string;
  case_ref: string;
  reason: string;
  created_at: string;
};

/**
 * `PUT /platform/bookings/{id}/hold`.
 */
export type HoldReply = {
  hold: HoldView;
};

/**
 * One entry of a chat's chain (SPEC §9.7).
 */
export type ChainEntryView = {
  /**
   * Its place in the chain, from 1.
   */
  n: number;
  /**
   * The entry's canonical bytes (base64; JSON inside); `null` where storage no longer opens
   * them (altered or moved), for the verifier to name.
   */
  canonical: string | null;
  /**
   * SHA-256(previous hash ‖ canonical bytes), hex; the hash before the first entry is
   * SHA-256 of `omw-chat/chain/1|<chat id>`.
   */
  hash: string;
};

/**
 * A chat's transcript: every message the chain covers, the chain, and an Ed25519 signature
 * over its head. `omw-chat verify-transcript FILE` checks one offline.
 */
export type TranscriptView = {
  /**
   * The transcript format's version.
   */
  version: number;
  chat: Chat;
  generated_at: string;
  /**
   * Oldest first.
   */
  messages: Array<Message>;
  chain: Array<ChainEntryView>;
  /**
   * The last entry's hash (hex).
   */
  head: string;
  /**
   * `Ed25519`.
   */
  algorithm: string;
  /**
   * The signing key's id (see `GET /platform/transcript-key`).
   */
  key_id: string;
  /**
   * The signature of the head's 32 bytes (base64).
   */
  signature: string;
};

/**
 * `GET /platform/chats/{chat_id}/transcript`.
 */
export type TranscriptReply = {
  transcript: TranscriptView;
};

/**
 * `GET /platform/transcript-key`: the public key transcripts are signed with.
 */
export type TranscriptKey = {
  /**
   * `Ed25519`.
   */
  algorithm: string;
  key_id: string;
  /**
   * The raw 32-byte public key (base64).
   */
  public_key: string;
  /**
   * The same key as a PEM SubjectPublicKeyInfo.
   */
  public_key_pem: string;
};

/**
 * `new_message`: a message stored in a chat the socket has joined.
 */
export type NewMessage = {
  message: Message;
};

/**
 * `chat_available`: a booking of the user was accepted; its chat is open.
 */
export type ChatAvailable = {
  chat: Chat;
};

/**
 * `chat_closed`: the service was completed or cancelled; the chat is read-only until deleted.
 */
export type ChatClosed = {
  chat_id: string;
  booking_id: string;
  reason: CloseReason;
};

/**
 * `messages_read`: a participant's read mark moved.
 */
export type MessagesRead = {
  chat_id: string;
  user_id: string;
  up_to_seq: number;
  /**
   * RFC 3339.
   */
  read_at: string;
};

/**
 * Online or not, as `user_status_update` says it.
 */
export type Presence = "online" | "offline";

/**
 * `user_status_update`: a counterpart came online or left.
 */
export type UserStatus = {
  user_id: string;
  status: Presence;
  /**
   * RFC 3339: now when coming online, the last socket's end when going offline.
   */
  last_seen: string;
};

/**
 * `user_typing`: the counterpart started or stopped typing.
 */
export type UserTyping = {
  chat_id: string;
  user_id: string;
  is_typing: boolean;
};

/**
 * `token_expired`: the socket's token ran out; the server disconnects it next.
 */
export type TokenExpired = {
  error: ApiError;
};

/** Client → server events: the payload, and the data of an `ok: true` ack. */
export interface ClientEvents {
  join_chat: { payload: JoinChat; ack: Joined };
  leave_chat: { payload: LeaveChat; ack: Done };
  send_message: { payload: InChat<SendMessage>; ack: MessageReply };
  load_messages: { payload: InChat<PageRequest>; ack: Messages };
  typing: { payload: Typing; ack: Done };
  mark_read: { payload: InChat<MarkRead>; ack: ReadMark };
  refresh_token: { payload: RefreshToken; ack: TokenExpiry };
  presence: { payload: PresenceReport; ack: Done };
}

/** Server → client events and their payloads. */
export interface ServerEvents {
  new_message: NewMessage;
  chat_available: ChatAvailable;
  chat_closed: ChatClosed;
  messages_read: MessagesRead;
  user_status_update: UserStatus;
  user_typing: UserTyping;
  token_expired: TokenExpired;
}
