import { useState } from 'react';
import Alert from '@mui/material/Alert';
import Avatar from '@mui/material/Avatar';
import Box from '@mui/material/Box';
import Card from '@mui/material/Card';
import CardContent from '@mui/material/CardContent';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import { BOOKING_STATUS_LABEL, ChatDialog, ChatEnvProvider, statusText, useChatState } from '@omw-chat/react';
import { counterpart } from '@omw-chat/client';
import { Layout } from './Layout';
import { BookingTimeline, MessageButton } from './parts';
import { useBookingChat, useDemoBooking, useDemoSession, type DemoSession } from './useDemo';

function Tracking({ session }: { session: DemoSession }) {
  const { client } = session;
  const { data, error } = useDemoBooking(client);
  const chatId = useBookingChat(client, data);
  const chatState = useChatState(client, chatId);
  const [open, setOpen] = useState(false);
  const booking = data?.booking;
  const worker = booking?.worker ?? null;
  const provider = counterpart(chatState, client.me.id);
  return (
    <>
      {error && <Alert severity="error" sx={{ mb: 2 }}>{error}</Alert>}
      {!booking ? (
        <CircularProgress aria-label="Loading booking" />
      ) : (
        <Box sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
          <Card>
            <CardContent>
              <Typography variant="overline" color="text.secondary">
                Booking {booking.id}
              </Typography>
              <Typography variant="h6" component="h2" sx={{ mb: 2 }} data-testid="booking-status">
                {BOOKING_STATUS_LABEL[booking.status]}
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
                      Your service provider{provider ? ` · ${statusText(provider.online, provider.last_seen)}` : ''}
                    </Typography>
                  </Box>
                  {chatId && <MessageButton client={client} chatId={chatId} counterpartName={worker.name} onClick={() => setOpen(true)} />}
                </>
              ) : (
                <Typography color="text.secondary">Waiting for a service provider to accept your booking…</Typography>
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
  return (
    <Layout title="Service tracking" subtitle={session ? `Signed in as ${session.user.name}` : undefined}>
      {error && <Alert severity="error">Could not sign in: {error}</Alert>}
      {!session && !error && <CircularProgress aria-label="Signing in" />}
      {session && (
        <ChatEnvProvider getToken={session.getToken}>
          <Tracking session={session} />
        </ChatEnvProvider>
      )}
    </Layout>
  );
}
