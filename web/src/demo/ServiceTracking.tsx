import Alert from '@mui/material/Alert';
import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import { FormattedMessage, useIntl } from 'react-intl';
import { bookingStatusText, ChatDialog, ChatEnvProvider, errorText, statusText, useChatI18n, useChatState } from '@omw-chat/react';
import { useDemoLocale } from '../i18n';
import { counterpart } from '@omw-chat/client';
import { Layout } from './Layout';
import { BookingTimeline, MessageButton } from './parts';
import { useChatDialog } from './useChatDialog';
import { useBookingChat, useDemoBooking, useDemoSession, type DemoSession } from './useDemo';

function Tracking({ session }: { session: DemoSession }) {
  const { client } = session;
  const { data, error } = useDemoBooking(client);
  const chatId = useBookingChat(client, data);
  const chatState = useChatState(client, chatId);
  const [open, setOpen] = useChatDialog(chatId);
  const booking = data?.booking;
  const worker = booking?.worker ?? null;
  const provider = counterpart(chatState, client.me.id);
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
        <CircularProgress aria-label={intl.formatMessage({ id: 'demo.loading_booking', defaultMessage: 'Loading booking' })} />
      ) : (
        <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
          <Card>
            <CardContent>
              <Typography variant="overline" color="text.secondary">
                <FormattedMessage id="demo.booking_id" defaultMessage="Booking {id}" values={{ id: booking.id }} />
              </Typography>
              <Typography variant="h6" component="h2" sx={{ mb: 2 }} data-testid="booking-status">
                {bookingStatusText(intl, booking.status)}
              </Typography>
              <BookingTimeline status={booking.status} />
            </CardContent>
          </Card>
          <Card data-testid="provider-card">
            <CardContent sx={{ display: 'flex', alignItems: 'center', gap: 2, flexWrap: 'wrap' }}>
              {worker ? (
                <>
                  <Avatar sx={{ bgcolor: 'secondary.main', width: 48, height: 48 }} aria-hidden>
                    {worker.name.slice(0, 1)}
                  </Avatar>
                  <Box sx={{ flex: 1, minWidth: 160 }}>
                    <Typography variant="subtitle1" component="h2" sx={{ fontWeight: 600 }}>
                      {worker.name}
                    </Typography>
                    <Typography variant="body2" color="text.secondary">
                      {provider ? (
                        <FormattedMessage
                          id="demo.your_provider_status"
                          defaultMessage="Your service provider · {status}"
                          values={{ status: statusText(i18n, provider.online, provider.last_seen) }}
                        />
                      ) : (
                        <FormattedMessage id="demo.your_provider" defaultMessage="Your service provider" />
                      )}
                    </Typography>
                  </Box>
                  {chatId && <MessageButton client={client} chatId={chatId} counterpartName={worker.name} onClick={() => setOpen(true)} />}
                </>
              ) : (
                <Typography color="text.secondary">
                  <FormattedMessage id="demo.waiting_for_provider" defaultMessage="Waiting for a service provider to accept your booking…" />
                </Typography>
              )}
            </CardContent>
          </Card>
        </Box>
      )}
      <ChatDialog client={client} chatId={chatId} open={open} onClose={() => setOpen(false)} />
    </>
  );
}

/** The customer's ServiceTracking page. */
export function ServiceTracking() {
  const { session, error } = useDemoSession('customer');
  const intl = useIntl();
  const { locale } = useDemoLocale();
  return (
    <Layout title={intl.formatMessage({ id: 'demo.customer.title', defaultMessage: 'Service tracking' })} subtitle={session ? intl.formatMessage({ id: 'demo.signed_in_as', defaultMessage: 'Signed in as {name}' }, { name: session.user.name }) : undefined}>
      {error && (
        <Alert severity="error">
          <FormattedMessage id="demo.sign_in_failed" defaultMessage="Could not sign in: {reason}" values={{ reason: errorText(intl, error) }} />
        </Alert>
      )}
      {!session && !error && <CircularProgress aria-label={intl.formatMessage({ id: 'demo.signing_in', defaultMessage: 'Signing in' })} />}
      {session && (
        <ChatEnvProvider getToken={session.getToken} locale={locale} serviceWorkerUrl="/sw.js">
          <Tracking session={session} />
        </ChatEnvProvider>
      )}
    </Layout>
  );
}
