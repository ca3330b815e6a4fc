// A platform app that installed the two packed tarballs. Its page is web/README.md's
// integration (BookingChat.tsx, checked to be the README's code), for the role in
// `?role=customer|worker`; `omw-chat serve --demo` stands in for the platform's backend and
// mints the tokens (/demo/api/token).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import CssBaseline from '@mui/material/CssBaseline';
import type { User } from '@omw-chat/client';
import { BookingChat } from './BookingChat';

async function call<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`${path}: ${res.status}`);
  return (await res.json()) as T;
}

async function main() {
  const role = new URLSearchParams(location.search).get('role') === 'worker' ? 'worker' : 'customer';
  const { token, user } = await call<{ token: string; user: User }>('/demo/api/token', { role });
  const { booking } = await call<{ booking: { id: string } }>('/demo/api/booking');
  const getToken = async () => token;
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <CssBaseline />
      <h1>{role === 'worker' ? 'Job tracking' : 'Service tracking'}</h1>
      <BookingChat user={user} getToken={getToken} bookingId={booking.id} />
    </StrictMode>,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  document.body.dataset.failed = String(err);
});
