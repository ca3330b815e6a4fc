import Alert from '@mui/material/Alert';
import Badge from '@mui/material/Badge';
import Button from '@mui/material/Button';
import Step from '@mui/material/Step';
import StepLabel from '@mui/material/StepLabel';
import Stepper from '@mui/material/Stepper';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import ChatIcon from '@mui/icons-material/ChatBubbleOutline';
import { useIntl } from 'react-intl';
import { bookingStatusText, useChatState } from '@omw-chat/react';
import { unreadCount, type BookingStatus, type ChatClient } from '@omw-chat/client';

const STEPS: BookingStatus[] = ['requested', 'accepted', 'en_route', 'in_progress', 'completed'];

export function BookingTimeline({ status }: { status: BookingStatus }) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down('sm'));
  const intl = useIntl();
  if (status === 'cancelled')
    return <Alert severity="warning">{intl.formatMessage({ id: 'demo.booking.cancelled', defaultMessage: 'This booking was cancelled.' })}</Alert>;
  const active = STEPS.indexOf(status);
  return (
    <Stepper
      activeStep={status === 'completed' ? STEPS.length : active + 1}
      orientation={phone ? 'vertical' : 'horizontal'}
      alternativeLabel={!phone}
      aria-label={intl.formatMessage({ id: 'demo.booking.progress', defaultMessage: 'Booking progress' })}
      data-testid="booking-timeline"
      data-status={status}
    >
      {STEPS.map((s, i) => (
        <Step key={s} completed={i <= active}>
          <StepLabel>{bookingStatusText(intl, s)}</StepLabel>
        </Step>
      ))}
    </Stepper>
  );
}

/** "Message" with the unread badge. */
export function MessageButton({ client, chatId, counterpartName, onClick }: { client: ChatClient; chatId: string; counterpartName: string; onClick: () => void }) {
  const c = useChatState(client, chatId);
  const unread = unreadCount(c, client.me.id);
  const intl = useIntl();
  return (
    <Badge
      badgeContent={unread}
      color="error"
      max={99}
      invisible={unread === 0}
      slotProps={{ badge: { 'data-testid': 'unread-badge', 'aria-hidden': true } as Record<string, unknown> }}
    >
      <Button
        variant="contained"
        startIcon={<ChatIcon />}
        onClick={onClick}
        data-testid="message-button"
        data-unread={unread}
        aria-label={intl.formatMessage(
          {
            id: 'demo.message_button.label',
            defaultMessage: '{unread, plural, =0 {Message {name}} one {Message {name}, # unread} other {Message {name}, # unread}}',
          },
          { name: counterpartName, unread },
        )}
      >
        {intl.formatMessage({ id: 'demo.message_button', defaultMessage: 'Message' })}
      </Button>
    </Badge>
  );
}
