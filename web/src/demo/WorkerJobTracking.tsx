import { useState, type ReactNode } from 'react';
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
import { BOOKING_STATUS_LABEL, ChatDialog, ChatEnvProvider, statusText, useChatState } from '@omw-chat/react';
import { counterpart, type BookingStatus } from '@omw-chat/client';
import { demoApi } from './api';
import { Layout } from './Layout';
import { BookingTimeline, MessageButton } from './parts';
import { useBookingChat, useDemoBooking, useDemoSession, type DemoSession } from './useDemo';

const ACTIONS: Array<{ status: BookingStatus; label: string; from: BookingStatus; icon: ReactNode }> = [
  { status: 'en_route', label: 'On my way', from: 'accepted', icon: <DirectionsCarIcon /> },
  { status: 'in_progress', label: 'Start', from: 'en_route', icon: <PlayArrowIcon /> },
  { status: 'completed', label: 'Complete', from: 'in_progress', icon: <DoneIcon /> },
];

function Job({ session }: { session: DemoSession }) {
  const { client } = session;
  const { data, error, busy, run } = useDemoBooking(client);
  const chatId = useBookingChat(client, data);
  const chatState = useChatState(client, chatId);
  const [open, setOpen] = useState(false);
  const booking = data?.booking;
  const customer = counterpart(chatState, client.me.id);
  const final = booking?.status === 'completed' || booking?.status === 'cancelled';
  return (
    <>
      {error && <Alert severity="error" sx={{ mb: 2 }}>{error}</Alert>}
      {!booking ? (
        <CircularProgress aria-label="Loading job" />
      ) : (
        <Card data-testid="job-card">
          <CardContent sx={{ display: 'flex', flexDirection: 'column', gap: 2 }}>
            <Box>
              <Typography variant="overline" color="text.secondary">
                Job {booking.id}
              </Typography>
              <Typography variant="h6" component="h2" data-testid="booking-status">
                {BOOKING_STATUS_LABEL[booking.status]}
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
                  Customer{customer ? ` · ${statusText(customer.online, customer.last_seen)}` : ''}
                </Typography>
              </Box>
              {chatId && booking.status !== 'requested' && (
                <MessageButton client={client} chatId={chatId} counterpartName={booking.customer.name} onClick={() => setOpen(true)} />
              )}
            </Box>
            <Divider />
            <Box sx={{ display: 'flex', gap: 1, flexWrap: 'wrap' }} role="group" aria-label="Job status actions">
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
                Cancel job
              </Button>
              <Box sx={{ flex: 1 }} />
              <Button startIcon={<RestartAltIcon />} disabled={busy} onClick={() => void run(() => demoApi.reset())} data-testid="action-reset">
                New demo booking
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
  return (
    <Layout title="Job tracking" subtitle={session ? `Signed in as ${session.user.name}` : undefined}>
      {error && <Alert severity="error">Could not sign in: {error}</Alert>}
      {!session && !error && <CircularProgress aria-label="Signing in" />}
      {session && (
        <ChatEnvProvider getToken={session.getToken}>
          <Job session={session} />
        </ChatEnvProvider>
      )}
    </Layout>
  );
}
