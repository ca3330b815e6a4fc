import type { ApiError, BookingStatus, Chat, Party, User } from '@omw-chat/client';

/** A refused demo call: the server's `{ error: { code, message } }` (the page shows the code's text). */
export class DemoApiError extends Error {
  constructor(readonly error: Pick<ApiError, 'code' | 'message' | 'params'>) {
    super(error.message);
    this.name = 'DemoApiError';
  }
}

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
    const error = (parsed as { error?: ApiError } | null)?.error;
    throw new DemoApiError(
      error?.code ? error : { code: res.status >= 500 ? 'unavailable' : 'invalid_payload', message: `${res.status} ${res.statusText}` },
    );
  }
  return parsed as T;
}

export const demoApi = {
  token: (role: 'customer' | 'worker') => call<{ token: string; user: User }>('POST', '/demo/api/token', { role }),
  booking: () => call<DemoBooking>('GET', '/demo/api/booking'),
  setStatus: (status: BookingStatus) => call<DemoBooking>('POST', '/demo/api/booking/status', { status }),
  reset: () => call<DemoBooking>('POST', '/demo/api/reset'),
};
