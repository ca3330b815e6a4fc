import type { ReactNode } from 'react';
import Alert from '@mui/material/Alert';
import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Divider from '@mui/material/Divider';
import Typography from '@mui/material/Typography';
import DirectionsCarIcon from '@mui/icons-material/DirectionsCar';
import PlayArrowIcon from '@mui/icons-material/PlayArrow';
import DoneIcon from '@mui/icons-material/Done';
import RestartAltIcon from '@mui/icons-material/RestartAlt';
import { FormattedMessage, useIntl } from 'react-intl';
import { bookingStatusText, ChatDialog, ChatEnvProvider, errorText, statusText, useChatI18n, useChatState } from '@omw-chat/react';
import { useDemoLocale } from '../i18n';
import { counterpart, type BookingStatus } from '@omw-chat/client';
import { demoApi } from './api';
import { Layout } from './Layout';
import { BookingTimeline, MessageButton } from './parts';
import { useChatDialog } from './useChatDialog';
import { useBookingChat, useDemoBooking, useDemoSession, type DemoSession } from './useDemo';

const ACTIONS: Array<{ status: BookingStatus; label: ReactNode; from: BookingStatus; icon: ReactNode }> = [
  { status: 'en_route', label: <FormattedMessage id="demo.action.en_route" defaultMessage="On my way" />, from: 'accepted', icon: <DirectionsCarIcon /> },
  { status: 'in_progress', label: <FormattedMessage id="demo.action.in_progress" defaultMessage="Start" />, from: 'en_route', icon: <PlayArrowIcon /> },
  { status: 'completed', label: <FormattedMessage id="demo.action.completed" defaultMessage="Complete" />, from: 'in_progress', icon: <DoneIcon /> },
];

function Job({ session }: { session: DemoSession }) {
  const { client } = session;
  const { data, error, busy, run } = useDemoBooking(client);
  const chatId = useBookingChat(client, data);
  const chatState = useChatState(client, chatId);
  const [open, setOpen] = useChatDialog(chatId);
  const booking = data?.booking;
  const customer = counterpart(chatState, client.me.id);
  const final = booking?.status === 'completed' || booking?.status === 'cancelled';
  const intl = useIntl();
  const i18n = useChatI18n();
  return (
    <>
      {error && (
        <Alert severity="error" sx={{ mb: 2 }}>
          {errorText(intl, error)}
        </Alert>
      )}
      {!booking ? (
        <CircularProgress aria-label={intl.formatMessage({ id: 'demo.loading_job', defaultMessage: 'Loading job' })} />
      ) : (
        <Card data-testid="job-card">
          <CardContent sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
            <Box>
              <Typography variant="overline" color="text.secondary">
                <FormattedMessage id="demo.job_id" defaultMessage="Job {id}" values={{ id: booking.id }} />
              </Typography>
              <Typography variant="h6" component="h2" data-testid="booking-status">
                {bookingStatusText(intl, booking.status)}
              </Typography>
            </Box>
            <BookingTimeline status={booking.status} />
            <Divider />
            <Box sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap' }}>
              <Avatar sx={{ bgcolor: 'primary.main', width: 48, height: 48 }} aria-hidden>
                {booking.customer.name.slice(0, 1)}
              </Avatar>
              <Box sx={{ flex: 1, minWidth: 160 }}>
                <Typography variant="subtitle1" component="h3" sx={{ fontWeight: 600 }}>
                  {booking.customer.name}
                </Typography>
                <Typography variant="body2" color="text.secondary">
                  {customer ? (
                    <FormattedMessage
                      id="demo.customer_status"
                      defaultMessage="Customer · {status}"
                      values={{ status: statusText(i18n, customer.online, customer.last_seen) }}
                    />
                  ) : (
                    <FormattedMessage id="demo.customer" defaultMessage="Customer" />
                  )}
                </Typography>
              </Box>
              {chatId && booking.status !== 'requested' && (
                <MessageButton client={client} chatId={chatId} counterpartName={booking.customer.name} onClick={() => setOpen(true)} />
              )}
            </Box>
            <Divider />
            <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} role="group" aria-label={intl.formatMessage({ id: 'demo.actions_label', defaultMessage: 'Job status actions' })}>
              {ACTIONS.map((a) => (
                <Button
                  key={a.status}
                  variant={booking.status === a.from ? 'contained' : 'outlined'}
                  startIcon={a.icon}
                  disabled={busy || booking.status !== a.from}
                  onClick={() => void run(() => demoApi.setStatus(a.status))}
                  data-testid={`action-${a.status}`}
                >
                  {a.label}
                </Button>
              ))}
              <Button
                color="error"
                disabled={busy || final}
                onClick={() => void run(() => demoApi.setStatus('cancelled'))}
                data-testid="action-cancelled"
              >
                <FormattedMessage id="demo.action.cancel" defaultMessage="Cancel job" />
              </Button>
              <Box sx={{ flex: 1 }} />
              <Button startIcon={<RestartAltIcon />} disabled={busy} onClick={() => void run(() => demoApi.reset())} data-testid="action-reset">
                <FormattedMessage id="demo.action.reset" defaultMessage="New demo booking" />
              </Button>
            </Box>
          </CardContent>
        </Card>
      )}
      <ChatDialog client={client} chatId={chatId} open={open} onClose={() => setOpen(false)} />
    </>
  );
}

/** The worker's WorkerJobTracking page. */
export function WorkerJobTracking() {
  const { session, error } = useDemoSession('worker');
  const intl = useIntl();
  const { locale } = useDemoLocale();
  return (
    <Layout title={intl.formatMessage({ id: 'demo.worker.title', defaultMessage: 'Job tracking' })} subtitle={session ? intl.formatMessage({ id: 'demo.signed_in_as', defaultMessage: 'Signed in as {name}' }, { name: session.user.name }) : undefined}>
      {error && (
        <Alert severity="error">
          <FormattedMessage id="demo.sign_in_failed" defaultMessage="Could not sign in: {reason}" values={{ reason: errorText(intl, error) }} />
        </Alert>
      )}
      {!session && !error && <CircularProgress aria-label={intl.formatMessage({ id: 'demo.signing_in', defaultMessage: 'Signing in' })} />}
      {session && (
        <ChatEnvProvider getToken={session.getToken} locale={locale} serviceWorkerUrl="/sw.js">
          <Job session={session} />
        </ChatEnvProvider>
      )}
    </Layout>
  );
}
