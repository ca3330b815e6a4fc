// A platform app that installed the two packed tarballs: the chat of the demo booking for the
// role in `?role=customer|worker`, tokens minted by `omw-chat serve --demo` (/demo/api/token).
// Written against the published API only: what web/README.md shows a front end doing.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import CssBaseline from '@mui/material/CssBaseline';
import { ChatClient, type Chat, type User } from '@omw-chat/client';
import { ChatEnvProvider, ChatWindow } from '@omw-chat/react';

async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

async function main() {
  const role = new URLSearchParams(location.search).get('role') === 'worker' ? 'worker' : 'customer';
  const { token, user } = await call<{ token: string; user: User }>('/demo/api/token', { role });
  const { chat } = await call<{ chat: Chat | null }>('/demo/api/booking');
  if (!chat) throw new Error('the demo booking has no chat');
  const getToken = () => token;
  const client = new ChatClient({ user, getToken });
  const { chatId } = await client.join({ booking_id: chat.booking_id });
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <CssBaseline />
      <ChatEnvProvider getToken={getToken}>
        <div style={{ height: '100vh', display: 'flex' }} data-role={role}>
          <ChatWindow client={client} chatId={chatId} />
        </div>
      </ChatEnvProvider>
    </StrictMode>,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  document.body.dataset.failed = String(err);
});
