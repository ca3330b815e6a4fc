// SPEC §4: every event and ack, and the guarantees, with the official socket.io-client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { acceptedBooking, ask, collect, connect, next, rest, sleep, startServer, text, uid } from './lib/harness.mjs';

let server;
before(async () => { server = await startServer({ env: { CHAT_RETENTION: '1h', RATE_LIMIT_MESSAGES: '1000', RATE_LIMIT_EVENTS: '5000' } }); });
after(async () => { await server?.stop(); });

async function pair() {
  const b = await acceptedBooking(server.url);
  const customer = await connect(server.url, b.customerToken);
  const worker = await connect(server.url, b.workerToken);
  return { ...b, customerParty: b.customer, workerParty: b.worker, customer, worker, close: () => { customer.close(); worker.close(); } };
}

describe('join_chat', () => {
  test('by chat id and by booking id, with history and participants', async () => {
    const p = await pair();
    const byChat = await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    assert.equal(byChat.ok, true);
    assert.equal(byChat.chat.id, p.chat.id);
    assert.equal(byChat.chat.status, 'active');
    assert.equal(byChat.messages.length, 1);
    assert.equal(byChat.messages[0].kind, 'system');
    assert.equal(byChat.messages[0].sender.role, 'system');
    assert.equal(byChat.messages[0].system.code, 'chat_opened');
    assert.equal(byChat.messages[0].system.params.worker_name, p.workerParty.name);
    assert.equal(byChat.has_more, false);
    const roles = byChat.participants.map((x) => x.role).sort();
    assert.deepEqual(roles, ['customer', 'worker']);
    const w = byChat.participants.find((x) => x.role === 'worker');
    assert.equal(w.id, p.workerParty.id);
    assert.equal(w.online, true);
    assert.equal(w.last_read_seq, 0);
    const byBooking = await ask(p.worker, 'join_chat', { booking_id: p.booking });
    assert.equal(byBooking.ok, true);
    assert.equal(byBooking.chat.id, p.chat.id);
    const bad = await ask(p.worker, 'join_chat', {});
    assert.equal(bad.error.code, 'invalid_payload');
    const missing = await ask(p.worker, 'join_chat', { chat_id: 'no-such-chat' });
    assert.equal(missing.error.code, 'not_found');
    p.close();
  });

  test('newest page of at most 50, oldest first', async () => {
    const p = await pair();
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    for (let i = 0; i < 60; i++) await ask(p.customer, 'send_message', text(p.chat.id, `m${i}`));
    const j = await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    assert.equal(j.messages.length, 50);
    assert.equal(j.has_more, true);
    assert.deepEqual(j.messages.map((m) => m.seq), Array.from({ length: 50 }, (_, i) => i + 12));
    p.close();
  });
});

describe('send_message', () => {
  test('acked with the stored message, delivered to the counterpart', async () => {
    const p = await pair();
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    const got = next(p.worker, 'new_message', (d) => d.message.kind === 'text');
    const ack = await ask(p.customer, 'send_message', { ...text(p.chat.id, 'hello <b>bob</b>', 'cid-1'), sender: { id: 'evil', role: 'worker' }, role: 'worker' });
    assert.equal(ack.ok, true);
    const m = ack.message;
    assert.equal(m.chat_id, p.chat.id);
    assert.equal(m.seq, 2);
    assert.equal(m.body, 'hello <b>bob</b>');
    assert.equal(m.client_id, 'cid-1');
    assert.deepEqual(m.sender, { id: p.customerParty.id, role: 'customer', name: 'Alice' });
    assert.equal(m.sender.role, 'customer', 'client-supplied sender/role are ignored');
    assert.match(m.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(m.attachment, null);
    const live = await got;
    assert.deepEqual(live.message, m);
    p.close();
  });

  test('a retry with the same client_id returns the stored message and is not broadcast again', async () => {
    const p = await pair();
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    const seen = collect(p.worker, 'new_message');
    const first = await ask(p.customer, 'send_message', text(p.chat.id, 'once', 'same-id'));
    const again = await ask(p.customer, 'send_message', text(p.chat.id, 'once', 'same-id'));
    assert.equal(again.ok, true);
    assert.equal(again.message.id, first.message.id);
    assert.equal(again.message.seq, first.message.seq);
    await sleep(300);
    assert.equal(seen.filter((d) => d.message.client_id === 'same-id').length, 1);
    p.close();
  });

  test('a burst arrives in seq order, gap-free, in send order', async () => {
    const p = await pair();
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    const seen = collect(p.worker, 'new_message');
    const acks = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(p.customer, 'send_message', text(p.chat.id, `n${i}`))));
    assert.deepEqual(acks.map((a) => a.message.body), Array.from({ length: 40 }, (_, i) => `n${i}`));
    assert.deepEqual(acks.map((a) => a.message.seq), Array.from({ length: 40 }, (_, i) => i + 2));
    while (seen.length < 40) await sleep(20);
    assert.deepEqual(seen.map((d) => d.message.seq), Array.from({ length: 40 }, (_, i) => i + 2));
    p.close();
  });

  test('bad messages are refused with invalid_payload, at and beyond the limits', async () => {
    const p = await pair();
    const c = p.chat.id;
    const ok = await ask(p.customer, 'send_message', text(c, 'x'.repeat(4000)));
    assert.equal(ok.ok, true);
    const cases = [
      text(c, 'x'.repeat(4001)),
      { chat_id: c, kind: 'text', body: 'no client id' },
      { chat_id: c, client_id: uid(), kind: 'system', body: 'I am the system' },
      { chat_id: c, client_id: uid(), kind: 'video', body: 'x' },
      { chat_id: c, client_id: uid(), kind: 'text', body: '   ' },
      { chat_id: c, client_id: uid(), kind: 'image' },
      { chat_id: c, client_id: uid(), kind: 'text' },
      'not an object',
    ];
    for (const payload of cases) {
      const r = await ask(p.customer, 'send_message', payload);
      assert.equal(r.ok, false, JSON.stringify(payload).slice(0, 80));
      assert.equal(r.error.code, 'invalid_payload', JSON.stringify(payload).slice(0, 80));
      assert.equal(typeof r.error.message, 'string');
    }
    p.close();
  });
});

describe('load_messages', () => {
  test('before and after seq, limits at and beyond 100', async () => {
    const p = await pair();
    const c = p.chat.id;
    for (let i = 0; i < 120; i++) await ask(p.customer, 'send_message', text(c, `h${i}`));
    // seq 1 is the system message, 2..=121 the texts.
    const before = await ask(p.worker, 'load_messages', { chat_id: c, before_seq: 11, limit: 5 });
    assert.deepEqual(before.messages.map((m) => m.seq), [6, 7, 8, 9, 10]);
    assert.equal(before.has_more, true);
    const after = await ask(p.worker, 'load_messages', { chat_id: c, after_seq: 115, limit: 100 });
    assert.deepEqual(after.messages.map((m) => m.seq), [116, 117, 118, 119, 120, 121]);
    assert.equal(after.has_more, false);
    const full = await ask(p.worker, 'load_messages', { chat_id: c, after_seq: 0, limit: 100 });
    assert.equal(full.messages.length, 100);
    assert.equal(full.has_more, true);
    const dflt = await ask(p.worker, 'load_messages', { chat_id: c });
    assert.equal(dflt.messages.length, 50);
    assert.equal(dflt.messages.at(-1).seq, 121);
    for (const bad of [{ limit: 101 }, { limit: 0 }, { before_seq: 5, after_seq: 2 }, { after_seq: -1 }]) {
      const r = await ask(p.worker, 'load_messages', { chat_id: c, ...bad });
      assert.equal(r.error?.code, 'invalid_payload', JSON.stringify(bad));
    }
    p.close();
  });
});

describe('typing', () => {
  test('shown to the counterpart, coalesced, and expiring after 6 s', async () => {
    const p = await pair();
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    const seen = collect(p.worker, 'user_typing');
    const started = Date.now();
    assert.equal((await ask(p.customer, 'typing', { chat_id: p.chat.id, is_typing: true })).ok, true);
    await ask(p.customer, 'typing', { chat_id: p.chat.id, is_typing: true });
    await ask(p.customer, 'typing', { chat_id: p.chat.id, is_typing: true });
    const stop = await next(p.worker, 'user_typing', (d) => d.is_typing === false, 20000);
    const elapsed = Date.now() - started;
    // Expiry is the feature: never early; late only by what a loaded machine may add.
    assert.ok(elapsed >= 5500 && elapsed < 15000, `expired after ${elapsed} ms`);
    assert.deepEqual(seen.map((d) => d.is_typing), [true, false], 'coalesced: one start, one stop');
    assert.deepEqual(stop, { chat_id: p.chat.id, user_id: p.customerParty.id, is_typing: false });
    assert.equal(seen[0].user_id, stop.user_id);
    p.close();
  });

  test('stopping and sending end it at once', async () => {
    const p = await pair();
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    // Listen before asking: the broadcast may reach the worker before the ack reaches us.
    const on = next(p.worker, 'user_typing', (d) => d.is_typing);
    await ask(p.customer, 'typing', { chat_id: p.chat.id, is_typing: true });
    await on;
    const off = next(p.worker, 'user_typing', (d) => !d.is_typing, 1000);
    await ask(p.customer, 'send_message', text(p.chat.id, 'done typing'));
    await off;
    p.close();
  });
});

describe('mark_read', () => {
  test('persists last_read_seq and tells the chat', async () => {
    const p = await pair();
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    for (let i = 0; i < 3; i++) await ask(p.customer, 'send_message', text(p.chat.id, `r${i}`));
    const receipt = next(p.customer, 'messages_read');
    const r = await ask(p.worker, 'mark_read', { chat_id: p.chat.id, up_to_seq: 3 });
    assert.deepEqual(r, { ok: true, last_read_seq: 3 });
    const ev = await receipt;
    assert.equal(ev.chat_id, p.chat.id);
    assert.equal(ev.user_id, p.workerParty.id);
    assert.equal(ev.up_to_seq, 3);
    assert.match(ev.read_at, /Z$/);
    // Never lowered; capped at the newest seq.
    assert.equal((await ask(p.worker, 'mark_read', { chat_id: p.chat.id, up_to_seq: 1 })).last_read_seq, 3);
    assert.equal((await ask(p.worker, 'mark_read', { chat_id: p.chat.id, up_to_seq: 999 })).last_read_seq, 4);
    const j = await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    assert.equal(j.participants.find((x) => x.role === 'worker').last_read_seq, 4);
    const list = await rest(server.url, 'GET', '/chats', p.workerToken);
    assert.equal(list.body.chats.find((c) => c.id === p.chat.id).unread_count, 0);
    p.close();
  });
});

describe('presence', () => {
  test('online while any device is connected, offline with last_seen after the last', async () => {
    const b = await acceptedBooking(server.url);
    const customer = await connect(server.url, b.customerToken);
    const online = next(customer, 'user_status_update', (d) => d.status === 'online');
    const phone = await connect(server.url, b.workerToken);
    assert.equal((await online).user_id, b.worker.id);
    const laptop = await connect(server.url, b.workerToken);
    const updates = collect(customer, 'user_status_update');
    phone.close();
    await sleep(400);
    assert.equal(updates.length, 0, 'still online on the laptop');
    const j = await ask(customer, 'join_chat', { chat_id: b.chat.id });
    assert.equal(j.participants.find((x) => x.role === 'worker').online, true);
    const offline = next(customer, 'user_status_update', (d) => d.status === 'offline');
    laptop.close();
    const ev = await offline;
    assert.equal(ev.user_id, b.worker.id);
    assert.ok(Date.parse(ev.last_seen) <= Date.now());
    const j2 = await ask(customer, 'join_chat', { chat_id: b.chat.id });
    const w = j2.participants.find((x) => x.role === 'worker');
    assert.equal(w.online, false);
    assert.equal(w.last_seen, ev.last_seen);
    customer.close();
  });

  test('not told to users who share no chat', async () => {
    const a = await acceptedBooking(server.url);
    const other = await acceptedBooking(server.url);
    const stranger = await connect(server.url, other.customerToken);
    const seen = collect(stranger, 'user_status_update');
    const w = await connect(server.url, a.workerToken);
    await sleep(400);
    assert.equal(seen.filter((d) => d.user_id === a.worker.id).length, 0);
    w.close();
    stranger.close();
  });
});

describe('lifecycle pushes', () => {
  test('chat_available, system messages, chat_closed, and refusals afterwards', async () => {
    const booking = uid('b');
    const customer = { id: uid('c'), name: 'Carol' };
    const worker = { id: uid('w'), name: 'Dan' };
    const { token, platform } = await import('./lib/harness.mjs');
    const cs = await connect(server.url, token(customer.id, 'customer'));
    const ws = await connect(server.url, token(worker.id, 'worker'));
    await platform(server.url, booking, 'requested', { customer, worker });
    const avail = next(cs, 'chat_available');
    const wavail = next(ws, 'chat_available');
    await platform(server.url, booking, 'accepted', { customer, worker });
    const { chat } = await avail;
    assert.equal(chat.booking_id, booking);
    assert.equal((await wavail).chat.id, chat.id);
    await ask(cs, 'join_chat', { chat_id: chat.id });
    const sys = next(cs, 'new_message', (d) => d.message.kind === 'system');
    await platform(server.url, booking, 'en_route', { customer, worker });
    const enRoute = (await sys).message;
    assert.equal(enRoute.body, 'Dan is on the way');
    assert.deepEqual(enRoute.system, { code: 'worker_en_route', params: { worker_name: 'Dan' } });
    const closing = next(cs, 'new_message', (d) => d.message.kind === 'system');
    const closedC = next(cs, 'chat_closed');
    const closedW = next(ws, 'chat_closed');
    await platform(server.url, booking, 'completed', { customer, worker });
    assert.deepEqual((await closing).message.system, { code: 'service_completed', params: {} });
    assert.deepEqual(await closedC, { chat_id: chat.id, booking_id: booking, reason: 'completed' });
    assert.equal((await closedW).reason, 'completed');
    const refused = await ask(cs, 'send_message', text(chat.id, 'too late'));
    assert.equal(refused.error.code, 'chat_closed');
    assert.equal((await ask(cs, 'typing', { chat_id: chat.id, is_typing: true })).error.code, 'chat_closed');
    assert.equal((await ask(cs, 'mark_read', { chat_id: chat.id, up_to_seq: 1 })).error.code, 'chat_closed');
    // Removed from the room: a closed chat's room is empty.
    const rest1 = await rest(server.url, 'POST', `/chats/${chat.id}/messages`, token(customer.id, 'customer'), text(chat.id, 'rest too'));
    assert.equal(rest1.status, 409);
    assert.equal(rest1.body.error.code, 'chat_closed');
    cs.close();
    ws.close();
  });
});

describe('recovery', () => {
  test('after a forced disconnect, load_messages { after_seq } catches up without gaps or duplicates', async () => {
    const p = await pair();
    await ask(p.worker, 'join_chat', { chat_id: p.chat.id });
    const live = collect(p.worker, 'new_message');
    for (let i = 0; i < 5; i++) await ask(p.customer, 'send_message', text(p.chat.id, `a${i}`));
    while (live.length < 5) await sleep(10);
    const lastSeen = live.at(-1).message.seq;
    p.worker.io.engine.close(); // the network drops
    for (let i = 0; i < 7; i++) await ask(p.customer, 'send_message', text(p.chat.id, `b${i}`));
    const worker = await connect(server.url, p.workerToken);
    await ask(worker, 'join_chat', { chat_id: p.chat.id });
    const caught = await ask(worker, 'load_messages', { chat_id: p.chat.id, after_seq: lastSeen });
    const seqs = [...live.map((d) => d.message.seq), ...caught.messages.map((m) => m.seq)];
    assert.deepEqual(seqs, Array.from({ length: 12 }, (_, i) => i + 2));
    worker.close();
    p.customer.close();
  });
});

describe('unknown events', () => {
  test('refused with invalid_payload; the events after them still run, in order', async () => {
    const p = await pair();
    await ask(p.customer, 'join_chat', { chat_id: p.chat.id });
    const unknown = ask(p.customer, 'send_mesage', text(p.chat.id, 'typo'));
    const sent = ask(p.customer, 'send_message', text(p.chat.id, 'after the typo'));
    const refused = await unknown;
    assert.equal(refused.ok, false);
    assert.equal(refused.error.code, 'invalid_payload');
    assert.match(refused.error.message, /unknown event: send_mesage/);
    const ok = await sent;
    assert.equal(ok.ok, true);
    assert.equal(ok.message.body, 'after the typo');
    p.close();
  });
});
