// SPEC §5: the REST API calls the same functions as the socket, with the same shapes and codes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { acceptedBooking, ask, connect, next, rest, startServer, text } from './lib/harness.mjs';

let server;
before(async () => { server = await startServer({ env: { CHAT_RETENTION: '1h' } }); });
after(async () => { await server?.stop(); });

test('send over REST: 201, idempotent, broadcast to sockets', async () => {
  const b = await acceptedBooking(server.url);
  const w = await connect(server.url, b.workerToken);
  await ask(w, 'join_chat', { chat_id: b.chat.id });
  const live = next(w, 'new_message', (d) => d.message.kind === 'text');
  const first = await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, { client_id: 'r1', kind: 'text', body: 'via rest' });
  assert.equal(first.status, 201);
  assert.equal(first.body.message.body, 'via rest');
  assert.equal(first.body.message.sender.role, 'customer');
  assert.deepEqual((await live).message, first.body.message);
  const again = await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, { client_id: 'r1', kind: 'text', body: 'via rest' });
  assert.equal(again.status, 201);
  assert.equal(again.body.message.id, first.body.message.id);
  const bad = await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, { client_id: 'r2', kind: 'text', body: 'x'.repeat(4001) });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.code, 'invalid_payload');
  w.close();
});

test('my chats, a chat, by booking, history and read marks', async () => {
  const b = await acceptedBooking(server.url);
  for (let i = 0; i < 3; i++) await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.workerToken, text(b.chat.id, `w${i}`));
  const list = await rest(server.url, 'GET', '/chats', b.customerToken);
  assert.equal(list.status, 200);
  assert.equal(list.body.chats.length, 1);
  const item = list.body.chats[0];
  assert.equal(item.id, b.chat.id);
  assert.equal(item.unread_count, 4);
  assert.equal(item.last_message.body, 'w2');
  assert.equal(list.headers.get('content-type'), 'application/json');

  const one = await rest(server.url, 'GET', `/chats/${b.chat.id}`, b.workerToken);
  assert.equal(one.body.chat.id, b.chat.id);
  const byBooking = await rest(server.url, 'GET', `/bookings/${b.booking}/chat`, b.customerToken);
  assert.equal(byBooking.body.chat.id, b.chat.id);
  const none = await rest(server.url, 'GET', '/bookings/no-such-booking/chat', b.customerToken);
  assert.equal(none.status, 404);

  const page = await rest(server.url, 'GET', `/chats/${b.chat.id}/messages?after_seq=1&limit=2`, b.customerToken);
  assert.deepEqual(page.body.messages.map((m) => m.seq), [2, 3]);
  assert.equal(page.body.has_more, true);
  const back = await rest(server.url, 'GET', `/chats/${b.chat.id}/messages?before_seq=3`, b.customerToken);
  assert.deepEqual(back.body.messages.map((m) => m.seq), [1, 2]);
  for (const q of ['limit=abc', 'limit=101', 'before_seq=2&after_seq=1']) {
    const r = await rest(server.url, 'GET', `/chats/${b.chat.id}/messages?${q}`, b.customerToken);
    assert.equal(r.status, 400, q);
    assert.equal(r.body.error.code, 'invalid_payload', q);
  }
  const read = await rest(server.url, 'POST', `/chats/${b.chat.id}/read`, b.customerToken, { up_to_seq: 4 });
  assert.deepEqual(read.body, { last_read_seq: 4 });
  const after = await rest(server.url, 'GET', '/chats', b.customerToken);
  assert.equal(after.body.chats[0].unread_count, 0);
});

test('responses are compressed when asked', async () => {
  const b = await acceptedBooking(server.url);
  for (let i = 0; i < 20; i++) await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, text(b.chat.id, `compress me ${i} `.repeat(20)));
  const res = await fetch(`${server.url}/api/v1/chats/${b.chat.id}/messages?limit=20`, { headers: { authorization: `Bearer ${b.customerToken}`, 'accept-encoding': 'gzip' } });
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.equal((await res.json()).messages.length, 20);
});

test('metrics are exported for Prometheus', async () => {
  const res = await fetch(`${server.url}/metrics`);
  assert.equal(res.status, 200);
  const body = await res.text();
  assert.match(body, /omw_messages_total/);
  assert.match(body, /omw_ack_seconds|omw_message_store_seconds/);
  // Batch sizes are counted in messages: the top bucket is the writer's largest batch.
  assert.match(body, /omw_write_batch_size_bucket\{le="512"\}/);
});
