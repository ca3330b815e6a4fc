import { afterEach, describe, expect, test, vi } from 'vitest';
import { ChatClient, busyRetryDelay, deliveryStatus, mergeMessages, unreadCount } from './index';
import { FakeServer, ME, OTHER, makeMessage } from '../../../test/fakeServer';
import type { FakeSocket } from '../../../test/fakeSocket';

const flush = () => new Promise((r) => setTimeout(r, 0));
async function until(pred: () => boolean, ms = 20_000) {
  const start = Date.now();
  while (!pred()) {
    if (Date.now() - start > ms) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(server = new FakeServer(), opts: { ackTimeoutMs?: number } = {}) {
  let socket!: FakeSocket;
  const client = new ChatClient({
    user: ME,
    getToken: () => 'token',
    socketFactory: () => (socket = server.socket()),
    ackTimeoutMs: opts.ackTimeoutMs ?? 200,
  });
  client.connect();
  return { server, client, socket: () => socket };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('mergeMessages', () => {
  test('sorts by seq and dedupes by id, seq and client_id', () => {
    const a = [makeMessage(1), makeMessage(3)];
    const merged = mergeMessages(a, [makeMessage(2), makeMessage(3), makeMessage(1), { ...makeMessage(4), id: 'other' }]);
    expect(merged.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const own = makeMessage(5, { client_id: 'cid', sender: { id: ME.id, role: 'customer', name: 'Alice' } });
    const twice = mergeMessages(mergeMessages(merged, [own]), [{ ...own, id: 'm5-copy', seq: 6 }]);
    expect(twice.filter((m) => m.client_id === 'cid')).toHaveLength(1);
    expect(mergeMessages(twice, [])).toBe(twice);
  });
});

describe('ChatClient', () => {
  test('join loads history and participants', async () => {
    const { client } = setup();
    const c = await client.join({ booking_id: 'b1' });
    expect(c.chatId).toBe('chat1');
    expect(c.messages.map((m) => m.seq)).toEqual([1]);
    expect(c.participants[OTHER.id]?.online).toBe(false);
    expect(client.getState().connection).toBe('connected');
  });

  test('dedupes a message that arrives by ack, by new_message and by load', async () => {
    const { client, server, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    const m = server.add('hello');
    socket().fire('new_message', { message: m });
    socket().fire('new_message', { message: m });
    await client.loadOlder('chat1');
    const c = client.chat('chat1')!;
    expect(c.messages.filter((x) => x.id === m.id)).toHaveLength(1);
    expect(c.messages.map((x) => x.seq)).toEqual([1, 2]);
  });

  test('a send lost with the connection is retried with the same client_id after a reconnect', async () => {
    const { client, server, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    server.loseSends = true;
    const cid = client.send('chat1', { body: 'are you close?' });
    await until(() => socket().sent('send_message').length === 1);
    expect(client.chat('chat1')!.pending[0]).toMatchObject({ client_id: cid, status: 'sending' });
    // The network drops before the ack arrives, then comes back.
    socket().drop();
    server.loseSends = false;
    socket().connect();
    await until(() => client.chat('chat1')!.pending.length === 0);
    const sends = socket().sent('send_message') as Array<{ client_id: string }>;
    expect(sends.length).toBeGreaterThanOrEqual(2);
    expect(new Set(sends.map((s) => s.client_id))).toEqual(new Set([cid]));
    const mine = client.chat('chat1')!.messages.filter((m) => m.client_id === cid);
    expect(mine).toHaveLength(1);
    expect(server.messages.filter((m) => m.client_id === cid)).toHaveLength(1);
  });

  test('a stored send whose ack was lost is not duplicated after a reconnect', async () => {
    const { client, server, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    server.dropAcks = true;
    const cid = client.send('chat1', { body: 'stored, ack lost' });
    await until(() => socket().sent('send_message').length === 1);
    socket().drop();
    server.dropAcks = false;
    socket().connect();
    await until(() => client.chat('chat1')!.pending.length === 0);
    expect(client.chat('chat1')!.messages.filter((m) => m.client_id === cid)).toHaveLength(1);
    expect(server.messages.filter((m) => m.client_id === cid)).toHaveLength(1);
  });

  test('a timed-out send is retried with the same client_id', async () => {
    const { client, server, socket } = setup(new FakeServer(), { ackTimeoutMs: 50 });
    await client.join({ chat_id: 'chat1' });
    server.loseSends = true;
    const cid = client.send('chat1', { body: 'retry me' });
    await until(() => socket().sent('send_message').length === 1);
    server.loseSends = false;
    await until(() => client.chat('chat1')!.pending.length === 0);
    const sends = socket().sent('send_message') as Array<{ client_id: string }>;
    expect(sends.every((s) => s.client_id === cid)).toBe(true);
    expect(client.chat('chat1')!.messages.filter((m) => m.client_id === cid)).toHaveLength(1);
  });

  test('the outbox survives a reload (a new client with the same storage)', async () => {
    const server = new FakeServer();
    const first = setup(server);
    await first.client.join({ chat_id: 'chat1' });
    first.socket().drop();
    const cid = first.client.send('chat1', { body: 'sent offline' });
    expect(localStorage.getItem(`omw_chat_outbox:${ME.id}`)).toContain(cid);
    first.client.close();

    const second = setup(server);
    await second.client.join({ chat_id: 'chat1' });
    await until(() => second.client.chat('chat1')!.pending.length === 0);
    expect(server.messages.filter((m) => m.client_id === cid)).toHaveLength(1);
    expect(second.client.chat('chat1')!.messages.at(-1)!.client_id).toBe(cid);
    expect(localStorage.getItem(`omw_chat_outbox:${ME.id}`)).toBeNull();
  });

  test('a refused send is marked failed and can be retried', async () => {
    const { client, server } = setup();
    await client.join({ chat_id: 'chat1' });
    server.status = 'closed';
    const cid = client.send('chat1', { body: 'too late' });
    await until(() => client.chat('chat1')!.pending[0]?.status === 'failed');
    expect(client.chat('chat1')!.pending[0]!.error?.code).toBe('chat_closed');
    server.status = 'active';
    client.retry(cid);
    await until(() => client.chat('chat1')!.pending.length === 0);
  });

  test('after a reconnect it re-joins and catches up in order, paging until has_more is false', async () => {
    const { client, server, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    server.add('two');
    server.add('three');
    socket().fire('new_message', { message: server.messages[1] });
    socket().fire('new_message', { message: server.messages[2] });
    socket().drop();
    for (let i = 0; i < 247; i++) server.add(`missed ${i}`);
    socket().connect();
    // A live message arrives in the middle of the catch-up.
    const live = server.add('live');
    socket().fire('new_message', { message: live });
    await until(() => (client.chat('chat1')!.messages.length ?? 0) === server.messages.length);
    const seqs = client.chat('chat1')!.messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: server.messages.length }, (_, i) => i + 1));
    const loads = socket().sent('load_messages') as Array<{ after_seq?: number }>;
    expect(loads.filter((l) => l.after_seq !== undefined).length).toBeGreaterThanOrEqual(3);
    expect(socket().sent('join_chat').length).toBe(2);
  });

  test('a handshake refused as busy is retried after a randomized, growing delay', async () => {
    vi.useFakeTimers();
    const { client, socket } = setup();
    socket().connected = false;
    let connects = 0;
    socket().connect = () => {
      connects += 1;
      return socket();
    };
    socket().fire('connect_error', { message: 'rate_limited' });
    expect(client.getState().connectionError?.code).toBe('rate_limited');
    vi.advanceTimersByTime(400);
    expect(connects).toBe(0);
    vi.advanceTimersByTime(1200);
    expect(connects).toBe(1);
    // Refused again: the wait grows (2 s ± 50 %).
    socket().fire('connect_error', { message: 'unavailable' });
    vi.advanceTimersByTime(900);
    expect(connects).toBe(1);
    vi.advanceTimersByTime(2200);
    expect(connects).toBe(2);
    // Other refusals are not retried this way.
    socket().fire('connect_error', { message: 'forbidden' });
    vi.advanceTimersByTime(60_000);
    expect(connects).toBe(2);
    client.close();
  });

  test('busy retry delays double to 30 s and are spread ±50 %', () => {
    expect([0, 1, 2, 5, 9].map((n) => busyRetryDelay(n, () => 0.5))).toEqual([1000, 2000, 4000, 30_000, 30_000]);
    expect(busyRetryDelay(0, () => 0)).toBe(500);
    expect(busyRetryDelay(5, () => 0.999_999)).toBe(45_000);
  });

  test('typing is throttled to one start per 2 s and stops after idling', async () => {
    vi.useFakeTimers();
    const { client, socket } = setup();
    client.typing('chat1');
    client.typing('chat1');
    vi.advanceTimersByTime(1000);
    client.typing('chat1');
    expect((socket().sent('typing') as Array<{ is_typing: boolean }>).map((t) => t.is_typing)).toEqual([true]);
    vi.advanceTimersByTime(1500);
    client.typing('chat1');
    expect((socket().sent('typing') as Array<{ is_typing: boolean }>).map((t) => t.is_typing)).toEqual([true, true]);
    vi.advanceTimersByTime(3100);
    expect((socket().sent('typing') as Array<{ is_typing: boolean }>).map((t) => t.is_typing)).toEqual([true, true, false]);
  });

  test('typing, presence and read receipts are state', async () => {
    const { client, server, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    socket().fire('user_typing', { chat_id: 'chat1', user_id: OTHER.id, is_typing: true });
    expect(client.chat('chat1')!.typing[OTHER.id]).toBe(true);
    socket().fire('user_status_update', { user_id: OTHER.id, status: 'online', last_seen: null });
    expect(client.chat('chat1')!.participants[OTHER.id]!.online).toBe(true);
    client.send('chat1', { body: 'hi' });
    await until(() => client.chat('chat1')!.messages.length === 2);
    const mine = client.chat('chat1')!.messages[1]!;
    expect(deliveryStatus(mine, client.chat('chat1')!, ME.id)).toBe('sent');
    socket().fire('messages_read', { chat_id: 'chat1', user_id: OTHER.id, up_to_seq: mine.seq, read_at: new Date().toISOString() });
    expect(deliveryStatus(mine, client.chat('chat1')!, ME.id)).toBe('read');
    const incoming = server.add('from bob');
    socket().fire('new_message', { message: incoming });
    expect(client.chat('chat1')!.typing[OTHER.id]).toBe(false);
    expect(unreadCount(client.chat('chat1'), ME.id)).toBe(1);
    await client.markRead('chat1');
    expect(unreadCount(client.chat('chat1'), ME.id)).toBe(0);
    expect(socket().sent('mark_read')).toEqual([{ chat_id: 'chat1', up_to_seq: incoming.seq }]);
    await flush();
  });

  test('chat_closed closes the chat and fails pending sends', async () => {
    const { client, socket } = setup();
    await client.join({ chat_id: 'chat1' });
    socket().drop();
    client.send('chat1', { body: 'queued' });
    socket().fire('chat_closed', { chat_id: 'chat1', booking_id: 'b1', reason: 'completed' });
    const c = client.chat('chat1')!;
    expect(c.chat?.status).toBe('closed');
    expect(c.chat?.close_reason).toBe('completed');
    expect(c.pending[0]?.status).toBe('failed');
  });
});
