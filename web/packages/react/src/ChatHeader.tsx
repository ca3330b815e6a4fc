import { formatDistanceToNow } from 'date-fns';
import Avatar from '@mui/material/Avatar';
import Badge from '@mui/material/Badge';
import Box from '@mui/material/Box';
import Chip from '@mui/material/Chip';
import IconButton from '@mui/material/IconButton';
import Typography from '@mui/material/Typography';
import CloseIcon from '@mui/icons-material/Close';
import type { BookingStatus } from '@omw-chat/client';
import { useNow } from './hooks';

export const BOOKING_STATUS_LABEL: Record<BookingStatus, string> = {
  requested: 'Requested',
  accepted: 'Accepted',
  en_route: 'On the way',
  in_progress: 'In progress',
  completed: 'Completed',
  cancelled: 'Cancelled',
};

export interface ChatHeaderProps {
  name: string;
  role: 'customer' | 'worker';
  online: boolean;
  lastSeen: string | null;
  typing: boolean;
  bookingStatus?: BookingStatus | null;
  connection?: string;
  titleId?: string;
  onClose?: () => void;
}

export function statusText(online: boolean, lastSeen: string | null, now = Date.now()): string {
  if (online) return 'Online';
  if (!lastSeen) return 'Offline';
  const when = new Date(lastSeen);
  if (Number.isNaN(when.getTime())) return 'Offline';
  if (now - when.getTime() < 60_000) return 'Last seen just now';
  return `Last seen ${formatDistanceToNow(when, { addSuffix: true })}`;
}

/** Counterpart name and role, online / last seen, typing, booking status and the close button. */
export function ChatHeader({ name, role, online, lastSeen, typing, bookingStatus, connection, titleId, onClose }: ChatHeaderProps) {
  const now = useNow(30_000);
  const roleLabel = role === 'worker' ? 'Service provider' : 'Customer';
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
          {name}{' '}
          <Typography component="span" variant="caption" color="text.secondary">
            · {roleLabel}
          </Typography>
        </Typography>
        <Box aria-live="polite" sx={{ minHeight: 20 }}>
          {typing ? (
            <Typography variant="caption" color="primary" data-testid="typing-indicator" sx={{ fontStyle: 'italic' }}>
              {name} is typing…
            </Typography>
          ) : (
            <Typography variant="caption" color={online ? 'success.main' : 'text.secondary'} data-testid="online-status">
              {connection && connection !== 'connected' ? 'Connecting…' : statusText(online, lastSeen, now)}
            </Typography>
          )}
        </Box>
      </Box>
      {bookingStatus && (
        <Chip size="small" label={BOOKING_STATUS_LABEL[bookingStatus]} data-testid="chat-booking-status" sx={{ display: { xs: 'none', sm: 'inline-flex' } }} />
      )}
      {onClose && (
        <IconButton aria-label="Close chat" onClick={onClose} edge="end" data-testid="chat-close">
          <CloseIcon />
        </IconButton>
      )}
    </Box>
  );
}
