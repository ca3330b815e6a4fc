import type { BookingStatus, Chat, Party, User } from '@omw-chat/client';

export interface DemoBooking {
  booking: { id: string; customer: Party; worker: Party | null; status: BookingStatus } | null;
  chat: Chat | null;
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  if (!res.ok) {
    const msg = (parsed as { error?: { message?: string } } | null)?.error?.message ?? `${res.status} ${res.statusText}`;
    throw new Error(msg);
  }
  return parsed as T;
}

export const demoApi = {
  token: (role: 'customer' | 'worker') => call<{ token: string; user: User }>('POST', '/demo/api/token', { role }),
  booking: () => call<DemoBooking>('GET', '/demo/api/booking'),
  setStatus: (status: BookingStatus) => call<DemoBooking>('POST', '/demo/api/booking/status', { status }),
  reset: () => call<DemoBooking>('POST', '/demo/api/reset'),
};
