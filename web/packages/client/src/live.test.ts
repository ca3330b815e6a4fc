// @vitest-environment node
// Against a real `omw-chat serve --demo`: OMW_LIVE_URL=http://127.0.0.1:5001 npm test
import { describe, expect, test } from 'vitest';
import { io } from 'socket.io-client';
import { ChatClient, type SocketLike, type User } from './index';

const URL = process.env.OMW_LIVE_URL;

async function demo<T>(path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${URL}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await res.json()) as T;
}

async function until(pred: () => boolean, ms = 5000) {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function clientFor(role: 'customer' | 'worker') {
  const t = await demo<{ token: string; user: User }>('/demo/api/token', { role });
  const client = new ChatClient({
    user: t.user,
    getToken: () => t.token,
    url: URL,
    storage: null,
    socketFactory: (url, auth) => io(url, { auth, transports: ['websocket'], autoConnect: false }) as unknown as SocketLike,
  });
  client.connect();
  return client;
}

describe.skipIf(!URL)('live server', () => {
  test('join, send, receive, read, close', async () => {
    const { chat, booking } = await demo<{ chat: { id: string }; booking: { id: string } }>('/demo/api/reset', {});
    const customer = await clientFor('customer');
    const worker = await clientFor('worker');
    await customer.join({ booking_id: booking.id });
    await worker.join({ chat_id: chat.id });
    customer.send(chat.id, { body: 'hello <b>Bob</b>' });
    await until(() => worker.chat(chat.id)!.messages.some((m) => m.body === 'hello <b>Bob</b>'));
    const seq = worker.chat(chat.id)!.messages.at(-1)!.seq;
    await worker.markRead(chat.id);
    await until(() => (customer.chat(chat.id)!.participants['demo-worker']?.last_read_seq ?? 0) >= seq);
    worker.typing(chat.id);
    await until(() => customer.chat(chat.id)!.typing['demo-worker'] === true);
    await demo('/demo/api/booking/status', { status: 'en_route' });
    await until(() => customer.chat(chat.id)!.messages.some((m) => m.kind === 'system' && /on the way/.test(m.body ?? '')));
    await demo('/demo/api/booking/status', { status: 'completed' });
    await until(() => customer.chat(chat.id)!.chat?.status === 'closed' && worker.chat(chat.id)!.chat?.status === 'closed');
    expect(customer.chat(chat.id)!.chat?.close_reason).toBe('completed');
    customer.close();
    worker.close();
  });
});
