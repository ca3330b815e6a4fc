import Avatar from '@mui/material/Avatar';
import Badge from '@mui/material/Badge';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import IconButton from '@mui/material/IconButton';
import Typography from '@mui/material/Typography';
import CloseIcon from '@mui/icons-material/Close';
import type { ReactNode } from 'react';
import { type IntlShape, type MessageDescriptor } from 'react-intl';
import { defineMessages } from './i18n/define';
import type { BookingStatus } from '@omw-chat/client';
import { useNow } from './hooks';
import { timeAgo } from './i18n/format';
import { useChatI18n, type ChatI18n } from './i18n/I18nProvider';

const BOOKING_STATUS_MESSAGES = defineMessages({
  requested: { id: 'booking.status.requested', defaultMessage: 'Requested' },
  accepted: { id: 'booking.status.accepted', defaultMessage: 'Accepted' },
  en_route: { id: 'booking.status.en_route', defaultMessage: 'On the way' },
  in_progress: { id: 'booking.status.in_progress', defaultMessage: 'In progress' },
  completed: { id: 'booking.status.completed', defaultMessage: 'Completed' },
  cancelled: { id: 'booking.status.cancelled', defaultMessage: 'Cancelled' },
}) satisfies Record<BookingStatus, MessageDescriptor>;

const m = defineMessages({
  online: { id: 'presence.online', defaultMessage: 'Online' },
  offline: { id: 'presence.offline', defaultMessage: 'Offline' },
  justNow: { id: 'presence.last_seen_just_now', defaultMessage: 'Last seen just now' },
  lastSeen: { id: 'presence.last_seen', defaultMessage: 'Last seen {ago}' },
  worker: { id: 'header.role.worker', defaultMessage: 'Service provider' },
  customer: { id: 'header.role.customer', defaultMessage: 'Customer' },
  roleSuffix: { id: 'header.role_suffix', defaultMessage: '· {role}' },
  typing: { id: 'header.typing', defaultMessage: '{name} is typing…' },
  connecting: { id: 'header.connecting', defaultMessage: 'Connecting…' },
  close: { id: 'header.close', defaultMessage: 'Close chat' },
});

/** A booking status in the reader's language. */
export function bookingStatusText(intl: IntlShape, status: BookingStatus): string {
  return intl.formatMessage(BOOKING_STATUS_MESSAGES[status]);
}

export interface ChatHeaderProps {
  name: string;
  role: 'customer' | 'worker';
  online: boolean;
  lastSeen: string | null;
  typing: boolean;
  bookingStatus?: BookingStatus | null;
  connection?: string;
  titleId?: string;
  /** Buttons before the close button (the notifications bell). */
  actions?: ReactNode;
  onClose?: () => void;
}

/** Online, or when the user was last seen ("Last seen 5 minutes ago"), in the reader's language. */
export function statusText(i18n: ChatI18n, online: boolean, lastSeen: string | null, now = Date.now()): string {
  const t = i18n.intl.formatMessage;
  if (online) return t(m.online);
  if (!lastSeen) return t(m.offline);
  const when = new Date(lastSeen);
  if (Number.isNaN(when.getTime())) return t(m.offline);
  if (now - when.getTime() < 60_000) return t(m.justNow);
  return t(m.lastSeen, { ago: timeAgo(i18n, when) });
}

/** Counterpart name and role, online / last seen, typing, booking status and the close button. */
export function ChatHeader({ name, role, online, lastSeen, typing, bookingStatus, connection, titleId, actions, onClose }: ChatHeaderProps) {
  const now = useNow(30_000);
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const roleLabel = t(role === 'worker' ? m.worker : m.customer);
  return (
    <Box component="header" sx={{ display: 'flex', alignItems: 'center', gap: 1.5, px: 2, py: 1.25, borderBottom: 1, borderColor: 'divider' }}>
      <Badge
        overlap="circular"
        variant="dot"
        color="success"
        invisible={!online}
        anchorOrigin={{ vertical: 'bottom', horizontal: 'right' }}
      >
        <Avatar aria-hidden sx={{ bgcolor: role === 'worker' ? 'secondary.main' : 'primary.main' }}>
          {name.slice(0, 1).toUpperCase()}
        </Avatar>
      </Badge>
      <Box sx={{ flex: 1, minWidth: 0 }}>
        <Typography id={titleId} variant="subtitle1" component="h2" noWrap sx={{ fontWeight: 600, lineHeight: 1.3 }}>
          <bdi>{name}</bdi>
          <Typography component="span" variant="caption" color="text.secondary" sx={{ ml: 0.75 }}>
            {t(m.roleSuffix, { role: roleLabel })}
          </Typography>
        </Typography>
        <Box aria-live="polite" sx={{ minHeight: 20 }}>
          {typing ? (
            <Typography variant="caption" color="primary" data-testid="typing-indicator" sx={{ fontStyle: 'italic' }}>
              {t(m.typing, { name })}
            </Typography>
          ) : (
            <Typography variant="caption" color={online ? 'success.main' : 'text.secondary'} data-testid="online-status">
              {connection && connection !== 'connected' ? t(m.connecting) : statusText(i18n, online, lastSeen, now)}
            </Typography>
          )}
        </Box>
      </Box>
      {bookingStatus && (
        <Chip size="small" label={bookingStatusText(i18n.intl, bookingStatus)} data-testid="chat-booking-status" sx={{ display: { xs: 'none', sm: 'inline-flex' } }} />
      )}
      {actions}
      {onClose && (
        <IconButton aria-label={t(m.close)} onClick={onClose} edge="end" data-testid="chat-close">
          <CloseIcon />
        </IconButton>
      )}
    </Box>
  );
}
