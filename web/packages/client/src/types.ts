// Wire types of the omw-chat contract (SPEC §3–§5). What the server sends and accepts is
// generated from its Rust types into ./contract.ts (scripts/contract); this module re-exports
// it under the client's names and adds what only the client has (its own error codes, narrower
// payloads for the SDK's callers, the socket.io-client event maps).
import type * as wire from './contract';

export type {
  Role,
  SenderRole,
  MessageKind,
  BookingStatus,
  ChatStatus,
  CloseReason,
  SystemCode,
  Party,
  Attachment,
  Message,
  Chat,
  Participant,
  Presence,
} from './contract';

export type SendKind = Exclude<wire.MessageKind, 'system'>;

/** Web push (SPEC §9.2): the server's VAPID key, a subscription as stored and as removed. */
export type VapidPublicKey = wire.VapidPublicKey;
export type PushKeys = wire.PushKeys;
export type PushSubscriptionRequest = wire.PushSubscriptionRequest;
export type PushUnsubscribe = wire.PushUnsubscribe;

export type ErrorCode =
  | wire.ErrorCode
  // client-side only
  | 'timeout'
  | 'disconnected'
  | 'network';

/** Values an error or a system message carries for its translation (SPEC §9.5). */
export type I18nParams = Record<string, string | number | boolean | null>;

export interface ApiError extends Omit<wire.ApiError, 'code'> {
  code: ErrorCode;
  /** Optional details for the translation (SPEC §9.5), e.g. `{ max_bytes }`. */
  params?: I18nParams;
}

/**
 * `message.system` (SPEC §9.5) as the client reads it: a newer server may send a code this
 * client does not know yet (then it shows the English `body`).
 */
export interface SystemInfo {
  code: wire.SystemCode | (string & {});
  params?: I18nParams;
}

export interface User extends wire.Party {
  role: wire.Role;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ApiError };

export type JoinResult = wire.Joined;
export type MessagesPage = wire.Messages;

/** `join_chat` by chat or by booking (exactly one of them). */
export type JoinPayload = { chat_id: string } | { booking_id: string };
/** `send_message` as the SDK sends it: always with an idempotency key and a kind. */
export interface SendPayload extends wire.SendMessage {
  chat_id: string;
  client_id: string;
  kind: SendKind;
}
export type LoadPayload = wire.InChat<wire.PageRequest>;

export type UserTypingEvent = wire.UserTyping;
export type MessagesReadEvent = wire.MessagesRead;
export type UserStatusEvent = wire.UserStatus;
export type ChatClosedEvent = wire.ChatClosed;
export type TokenExpiredEvent = wire.TokenExpired;

type AckFn<T> = (ack: Ack<T>) => void;

/** socket.io-client's map of the events a client emits, from the generated table. */
export type ClientToServerEvents = {
  [E in keyof wire.ClientEvents]: (p: wire.ClientEvents[E]['payload'], ack: AckFn<wire.ClientEvents[E]['ack']>) => void;
};

/** socket.io-client's map of the events the server emits, from the generated table. */
export type ServerToClientEvents = {
  [E in keyof wire.ServerEvents]: (e: wire.ServerEvents[E]) => void;
};

/** Payload of a client → server event. */
export type EventPayload<E extends keyof ClientToServerEvents> = wire.ClientEvents[E]['payload'];
/** Ack of a client → server event (the `ok: true` shape). */
export type EventResult<E extends keyof ClientToServerEvents> = wire.ClientEvents[E]['ack'];
