// Every error code (SPEC §4, and the client's own) as text in the reader's language, made from
// `code` and `params` — never from the server's English `message`.
import { type IntlShape, type MessageDescriptor } from 'react-intl';
import { defineMessages } from './define';
import type { ApiError, ErrorCode } from '@omw-chat/client';

const ERROR_MESSAGES = defineMessages({
  unauthorized: { id: 'error.unauthorized', defaultMessage: 'Your sign-in has expired or is not valid. Please sign in again.' },
  forbidden: { id: 'error.forbidden', defaultMessage: 'You are not allowed to do this.' },
  not_found: { id: 'error.not_found', defaultMessage: 'This chat or message does not exist (any more).' },
  chat_closed: { id: 'error.chat_closed', defaultMessage: 'This chat is closed. Messages can no longer be sent.' },
  rate_limited: { id: 'error.rate_limited', defaultMessage: 'You are sending too fast. Please wait a moment.' },
  invalid_payload: { id: 'error.invalid_payload', defaultMessage: 'The server could not accept this request.' },
  payload_too_large: { id: 'error.payload_too_large', defaultMessage: 'This is too large to send.' },
  unsupported_media_type: { id: 'error.unsupported_media_type', defaultMessage: 'This type of file cannot be sent.' },
  conflict: { id: 'error.conflict', defaultMessage: 'This changed in the meantime. Please try again.' },
  unavailable: { id: 'error.unavailable', defaultMessage: 'The chat service is unavailable right now. Please try again shortly.' },
  internal: { id: 'error.internal', defaultMessage: 'Something went wrong on the server. Please try again.' },
  timeout: { id: 'error.timeout', defaultMessage: 'The server did not answer in time.' },
  disconnected: { id: 'error.disconnected', defaultMessage: 'Not connected. It will be sent when the connection is back.' },
  network: { id: 'error.network', defaultMessage: 'Network error. Check your connection.' },
}) satisfies Record<ErrorCode, MessageDescriptor>;

const m = defineMessages({
  rateLimitedFor: {
    id: 'error.rate_limited.retry',
    defaultMessage: 'You are sending too fast. Try again in {seconds, plural, one {# second} other {# seconds}}.',
  },
  tooLargeMax: { id: 'error.payload_too_large.max', defaultMessage: 'This is too large to send (at most {max}).' },
  unknown: { id: 'error.unknown', defaultMessage: 'Something went wrong (error “{code}”).' },
});

/** The codes this client has a text for. */
export const KNOWN_ERROR_CODES = Object.keys(ERROR_MESSAGES) as ErrorCode[];

type ErrorLike = Pick<ApiError, 'retry_after_ms' | 'params'> & { code: string };

/**
 * An error for the reader: from its `code` (+ `params`: `retry_after_ms`, `max_bytes`), in the
 * locale of `intl`. A code this client does not know yet shows itself, not the English message.
 */
export function errorText(intl: IntlShape, error: ErrorLike): string {
  const params = error.params ?? {};
  if (error.code === 'rate_limited') {
    const ms = Number(params.retry_after_ms ?? error.retry_after_ms);
    if (Number.isFinite(ms) && ms > 0) return intl.formatMessage(m.rateLimitedFor, { seconds: Math.ceil(ms / 1000) });
  }
  if (error.code === 'payload_too_large' && typeof params.max_bytes === 'number') {
    const mb = params.max_bytes / (1024 * 1024);
    return intl.formatMessage(m.tooLargeMax, {
      max: intl.formatNumber(mb, { style: 'unit', unit: 'megabyte', unitDisplay: 'short', maximumFractionDigits: 1 }),
    });
  }
  const known = (ERROR_MESSAGES as Record<string, MessageDescriptor>)[error.code];
  return known ? intl.formatMessage(known) : intl.formatMessage(m.unknown, { code: error.code });
}

/** The `code` (and details) of whatever an operation threw: an ApiError, an UploadError, else `internal`. */
export function errorOf(err: unknown): ErrorLike {
  if (err && typeof err === 'object') {
    const inner = (err as { error?: unknown }).error;
    if (inner && typeof inner === 'object' && typeof (inner as ErrorLike).code === 'string') return inner as ErrorLike;
    if (typeof (err as ErrorLike).code === 'string') return err as ErrorLike;
  }
  return { code: 'internal' };
}
