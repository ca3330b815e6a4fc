// System messages (SPEC §3, §9.5) in the reader's language: from `message.system` ({ code,
// params }) when the server sends it, else the English `body` as it came.
import { type IntlShape, type MessageDescriptor } from 'react-intl';
import { defineMessages } from './define';
import type { I18nParams, SystemCode, SystemInfo } from '@omw-chat/client';

const SYSTEM_MESSAGES = defineMessages({
  chat_opened: {
    id: 'system.chat_opened',
    defaultMessage: '{worker_name} accepted the booking. You can chat here while the service is active.',
  },
  worker_en_route: { id: 'system.worker_en_route', defaultMessage: '{worker_name} is on the way' },
  service_started: { id: 'system.service_started', defaultMessage: 'Service started' },
  service_completed: { id: 'system.service_completed', defaultMessage: 'Service completed. This chat is now closed.' },
  booking_cancelled: { id: 'system.booking_cancelled', defaultMessage: 'Booking cancelled. This chat is now closed.' },
}) satisfies Record<SystemCode, MessageDescriptor>;

const m = defineMessages({
  yourProvider: { id: 'system.your_provider', defaultMessage: 'Your provider' },
});

/** The system codes this client renders itself. */
export const KNOWN_SYSTEM_CODES = Object.keys(SYSTEM_MESSAGES) as SystemCode[];

function values(intl: IntlShape, params: I18nParams | undefined): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(params ?? {})) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  const name = typeof out.worker_name === 'string' ? out.worker_name.trim() : '';
  out.worker_name = name || intl.formatMessage(m.yourProvider);
  return out;
}

/**
 * What a system message says, for this reader: its code translated with its params when the
 * client knows the code, otherwise the server's English `body`.
 */
export function systemText(intl: IntlShape, message: { body: string | null; system?: SystemInfo | null }): string {
  const code = message.system?.code;
  const d = code ? (SYSTEM_MESSAGES as Record<string, MessageDescriptor>)[code] : undefined;
  if (d) return intl.formatMessage(d, values(intl, message.system?.params));
  return message.body ?? '';
}
