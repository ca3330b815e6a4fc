import { useEffect, useMemo, useState } from 'react';
import Button from '@mui/material/Button';
import { ChatClient, type User } from '@omw-chat/client';
import { ChatDialog, ChatEnvProvider } from '@omw-chat/react';
/** On ServiceTracking (customer) or WorkerJobTracking (worker), once the booking is accepted. */
export function BookingChat({ user, getToken, bookingId }: { user: User; getToken: () => Promise<string>; bookingId: string }) {
  const client = useMemo(() => new ChatClient({ user, getToken }), [user, getToken]);
  const [chatId, setChatId] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    client.join({ booking_id: bookingId }).then((c) => setChatId(c.chatId), () => setChatId(null));
    return () => client.close();
  }, [client, bookingId]);
  return (
    <ChatEnvProvider getToken={getToken}>
      {chatId && <Button onClick={() => setOpen(true)}>Message</Button>}
      <ChatDialog client={client} chatId={chatId} open={open} onClose={() => setOpen(false)} />
    </ChatEnvProvider>
  );
}
