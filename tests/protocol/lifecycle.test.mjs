// A socket's and a chat's lifecycle under faults: handshakes the client abandons, chats deleted
// while cached, and closes racing joins and messages.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { test } from 'node:test';
import {
  acceptedBooking, ask, connect, eventually, rest, sleep, startServer, text,
} from './lib/harness.mjs';

const metric = async (url, name) => {
  const body = await (await fetch(`${url}/metrics`)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? 0 : Number(line.split(' ').pop());
};

/** A masked WebSocket text frame (what a client must send). */
function wsFrame(payload) {
  const data = Buffer.from(payload);
  const mask = randomBytes(4);
  let head;
  if (data.length < 126) {
    head = Buffer.from([0x81, 0x80 | data.length]);
  } else {
    head = Buffer.alloc(4);
    head[0] = 0x81;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(data.length, 2);
  }
  const body = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) body[i] = data[i] ^ mask[i % 4];
  return Buffer.concat([head, mask, body]);
}

/**
 * Open an Engine.IO WebSocket by hand, send the Socket.IO CONNECT with `tok`, and leave at
 * once, before the server's CONNECT answer can be delivered.
 */
function abortedHandshake(url, tok) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const sock = tcpConnect({ host: hostname, port: Number(port) }, () => {
      sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`
        + 'Upgrade: websocket\r\nConnection: Upgrade\r\n'
        + `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    let head = '';
    let sent = false;
    sock.on('data', (d) => {
      if (sent) return;
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      sent = true;
      sock.end(wsFrame(`40${JSON.stringify({ token: tok })}`));
    });
    sock.on('error', () => {});
    sock.on('close', resolve);
    sock.setTimeout(10000, () => sock.destroy());
  });
}

test('aborted handshakes leave neither presence nor a counted connection behind', async () => {
  const server = await startServer({ env: { RATE_LIMIT_EVENTS: '100000' } });
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    const cust = await connect(server.url, b.customerToken);
    const baseline = await metric(server.url, 'omw_socket_connections');
    // Many at once: the race is between the server's connect task and the client's close.
    const rounds = 600;
    const parallel = 30;
    for (let i = 0; i < rounds; i += parallel) {
      await Promise.all(Array.from({ length: parallel }, () => abortedHandshake(server.url, b.workerToken)));
    }
    await eventually(async () => (await metric(server.url, 'omw_socket_connections')) === baseline,
      `omw_socket_connections back to ${baseline}`, 15000, 200);
    await eventually(async () => {
      const joined = await ask(cust, 'join_chat', { chat_id });
      assert.ok(joined.ok, JSON.stringify(joined.error));
      return joined.participants.find((p) => p.id === b.worker.id).online === false;
    }, 'the worker shown offline', 15000, 200);
    // A real connection still counts and is seen.
    const work = await connect(server.url, b.workerToken);
    const joined = await ask(cust, 'join_chat', { chat_id });
    assert.equal(joined.participants.find((p) => p.id === b.worker.id).online, true);
    assert.equal(await metric(server.url, 'omw_socket_connections'), baseline + 1);
    work.close();
    cust.close();
  } finally {
    await server.stop();
  }
});

test('a chat deleted by the sweeper is not_found on REST and socket, not an empty history', async () => {
  const server = await startServer({ env: { CHAT_RETENTION: '300ms' } });
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    const cust = await connect(server.url, b.customerToken);
    assert.ok((await ask(cust, 'join_chat', { chat_id })).ok);
    assert.ok((await ask(cust, 'send_message', text(chat_id, 'hello'))).ok);
    assert.equal((await b.move('cancelled')).status, 200);
    // Wait for the purge: the history loses its messages (or the chat is gone).
    await eventually(async () => {
      const h = await rest(server.url, 'GET', `/chats/${chat_id}/messages`, b.customerToken);
      return h.status !== 200 || !h.body.messages.some((m) => m.body === 'hello');
    }, 'the sweeper deleted the chat', 15000, 100);
    const h = await rest(server.url, 'GET', `/chats/${chat_id}/messages`, b.customerToken);
    assert.equal(h.status, 404, JSON.stringify(h.body));
    assert.equal(h.body.error.code, 'not_found');
    const loaded = await ask(cust, 'load_messages', { chat_id });
    assert.equal(loaded.ok, false, JSON.stringify(loaded));
    assert.equal(loaded.error.code, 'not_found');
    const read = await ask(cust, 'mark_read', { chat_id, up_to_seq: 1 });
    assert.equal(read.ok, false);
    assert.equal(read.error.code, 'not_found');
    cust.close();
  } finally {
    await server.stop();
  }
});

test('a join racing a close: the ack never shows an open chat after chat_closed', async () => {
  // The hook holds join_chat between reading the chat and joining its room.
  // Kept after closing, so the join can still answer with the closed chat.
  const server = await startServer({ env: { OMW_TEST_JOIN_DELAY_MS: '1500', CHAT_RETENTION: '1h' } });
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    const work = await connect(server.url, b.workerToken);
    const events = [];
    work.on('chat_closed', (d) => events.push(['chat_closed', d.chat_id]));
    const joining = ask(work, 'join_chat', { chat_id }).then((r) => { events.push(['ack', r]); return r; });
    await sleep(300);
    assert.equal((await b.move('cancelled')).status, 200);
    const joined = await joining;
    assert.ok(joined.ok, JSON.stringify(joined.error));
    await eventually(() => events.some(([e]) => e === 'chat_closed'), 'chat_closed arrives');
    const closedAt = events.findIndex(([e]) => e === 'chat_closed');
    const ackAt = events.findIndex(([e]) => e === 'ack');
    if (closedAt < ackAt) {
      // The close came first: the join must report the chat closed (it is in no live room).
      assert.equal(joined.chat.status, 'closed', 'join acked an open chat after chat_closed');
    }
    work.close();
  } finally {
    await server.stop();
  }
});

test('a message committed just before a close is delivered before chat_closed', async () => {
  // The hook holds each written batch before it is broadcast, so the close lands in between.
  const server = await startServer({ env: { OMW_TEST_ANNOUNCE_DELAY_MS: '1500' } });
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    const cust = await connect(server.url, b.customerToken);
    const work = await connect(server.url, b.workerToken);
    assert.ok((await ask(cust, 'join_chat', { chat_id })).ok);
    assert.ok((await ask(work, 'join_chat', { chat_id })).ok);
    const seen = [];
    cust.on('new_message', (d) => seen.push(['new_message', d.message.id]));
    cust.on('chat_closed', () => seen.push(['chat_closed']));
    const sending = ask(work, 'send_message', text(chat_id, 'last words'));
    // Close once the message is committed (visible in the history), before it is broadcast.
    await eventually(async () => {
      const h = await rest(server.url, 'GET', `/chats/${chat_id}/messages`, b.customerToken);
      return h.status === 200 && h.body.messages.some((m) => m.body === 'last words');
    }, 'message committed', 10000, 20);
    assert.equal((await b.move('cancelled')).status, 200);
    const sent = await sending;
    await eventually(() => seen.some(([e]) => e === 'chat_closed'), 'chat_closed arrives');
    await sleep(300); // nothing else may arrive after chat_closed
    const closedAt = seen.findIndex(([e]) => e === 'chat_closed');
    if (sent.ok) {
      const at = seen.findIndex(([e, id]) => e === 'new_message' && id === sent.message.id);
      assert.ok(at !== -1 && at < closedAt, `acked message delivered before chat_closed: ${JSON.stringify(seen)}`);
    } else {
      assert.equal(sent.error.code, 'chat_closed');
    }
    assert.equal(seen.slice(closedAt + 1).length, 0, `nothing after chat_closed: ${JSON.stringify(seen)}`);
    cust.close();
    work.close();
  } finally {
    await server.stop();
  }
});
