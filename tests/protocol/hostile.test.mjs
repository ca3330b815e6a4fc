// Hostile clients: caps on sockets, the shared REST/socket budget, malformed and oversized input
// on every transport. Each case gets its SPEC error (or its connection closed), and the server
// keeps serving everyone else.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { acceptedBooking, ask, connect, eventually, refusal, rest, sleep, startServer, text, token, uid } from './lib/harness.mjs';

let server;
before(async () => { server = await startServer({ env: { CHAT_RETENTION: '1h' } }); });
after(async () => { await server?.stop(); });

/** The server answers a fresh user on a fresh socket: it survived what came before. */
async function stillServing(url = server.url) {
  const b = await acceptedBooking(url);
  const s = await connect(url, b.customerToken);
  const r = await ask(s, 'send_message', text(b.chat.id, 'still here'));
  assert.equal(r.ok, true, JSON.stringify(r));
  s.close();
}

/** The ack of `event`, or 'disconnected' if the server closed the socket instead. */
function ackOrClose(socket, event, payload, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${event}: neither an ack nor a disconnect`)), timeoutMs);
    socket.once('disconnect', () => { clearTimeout(timer); resolve('disconnected'); });
    socket.emit(event, payload, (r) => { clearTimeout(timer); resolve(r); });
  });
}

describe('socket caps', () => {
  test('MAX_SOCKETS_PER_USER: N accepted, N+1 rate_limited, closing one lets a new one in', async () => {
    const capped = await startServer({ env: { MAX_SOCKETS_PER_USER: '3' } });
    try {
      const user = uid('c');
      const tok = token(user, 'customer');
      const open = [];
      for (let i = 0; i < 3; i++) open.push(await connect(capped.url, tok));
      const err = await refusal(capped.url, tok);
      assert.equal(err.message, 'rate_limited');
      // The same user id in the other role is another seat, and others are not affected.
      (await connect(capped.url, token(user, 'worker'))).close();
      (await connect(capped.url, token(uid('c'), 'customer'))).close();
      open.pop().close();
      const again = await eventually(async () => {
        try { return await connect(capped.url, tok); } catch { return null; }
      }, 'a socket after one closed');
      assert.ok(again.connected);
      assert.equal((await refusal(capped.url, tok)).message, 'rate_limited');
      again.close();
      open.forEach((s) => s.close());
    } finally {
      await capped.stop();
    }
  });

  test('MAX_CONNECTIONS: N sockets on the node, N+1 rate_limited while REST is still served', async () => {
    const capped = await startServer({ env: { MAX_CONNECTIONS: '3' } });
    try {
      const open = [];
      for (let i = 0; i < 3; i++) open.push(await connect(capped.url, token(uid('c'), 'customer')));
      assert.equal((await refusal(capped.url, token(uid('c'), 'customer'))).message, 'rate_limited');
      assert.equal((await fetch(`${capped.url}/healthz`)).status, 200);
      open.pop().close();
      const again = await eventually(async () => {
        try { return await connect(capped.url, token(uid('c'), 'customer')); } catch { return null; }
      }, 'a socket after one closed');
      assert.ok(again.connected);
      assert.equal((await refusal(capped.url, token(uid('w'), 'worker'))).message, 'rate_limited');
      again.close();
      open.forEach((s) => s.close());
    } finally {
      await capped.stop();
    }
  });

  test('HANDSHAKE_CONCURRENCY: handshakes past it wait their turn; past HANDSHAKE_WAIT they are rate_limited', async () => {
    // One handshake at a time, each held 300 ms by the test hook.
    const queued = await startServer({
      env: { HANDSHAKE_CONCURRENCY: '1', HANDSHAKE_WAIT: '10s', OMW_TEST_HANDSHAKE_DELAY_MS: '300' },
    });
    try {
      const start = Date.now();
      const socks = await Promise.all([0, 1, 2].map(() => connect(queued.url, token(uid('c'), 'customer'))));
      // Three in a row cannot be done sooner than three turns.
      assert.ok(Date.now() - start >= 850, `all three connected after ${Date.now() - start} ms`);
      socks.forEach((s) => s.close());
    } finally {
      await queued.stop();
    }
    const refusing = await startServer({
      env: { HANDSHAKE_CONCURRENCY: '1', HANDSHAKE_WAIT: '200ms', OMW_TEST_HANDSHAKE_DELAY_MS: '1500' },
    });
    try {
      const outcomes = await Promise.allSettled([0, 1].map(() => connect(refusing.url, token(uid('c'), 'customer'))));
      const ok = outcomes.filter((o) => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected');
      assert.equal(ok.length, 1);
      assert.equal(refused.length, 1);
      assert.equal(refused[0].reason.message, 'rate_limited');
      ok[0].value.close();
      const m = await (await fetch(`${refusing.url}/metrics`)).text();
      assert.match(m, /omw_handshake_refused_total\{[^}]*cap="admission"[^}]*\} 1/);
    } finally {
      await refusing.stop();
    }
  });

  test('MAX_SOCKETS_PER_IP: N accepted from one address, N+1 rate_limited', async () => {
    const capped = await startServer({ env: { MAX_SOCKETS_PER_IP: '4' } });
    try {
      const open = [];
      for (let i = 0; i < 4; i++) open.push(await connect(capped.url, token(uid('c'), 'customer')));
      assert.equal((await refusal(capped.url, token(uid('c'), 'customer'))).message, 'rate_limited');
      assert.equal((await refusal(capped.url, token(uid('c'), 'customer'), { transports: ['polling'] })).message, 'rate_limited');
      open.pop().close();
      const again = await eventually(async () => {
        try { return await connect(capped.url, token(uid('c'), 'customer')); } catch { return null; }
      }, 'a socket after one closed');
      again.close();
      open.forEach((s) => s.close());
    } finally {
      await capped.stop();
    }
  });
});

describe('one budget for REST and sockets', () => {
  test('events spent on the socket make REST answer 429, and REST calls make the socket rate_limited', async () => {
    const limited = await startServer({ env: { RATE_LIMIT_EVENTS: '10', RATE_LIMIT_EVENTS_WINDOW: '1h' } });
    try {
      const b = await acceptedBooking(limited.url);
      const c = await connect(limited.url, b.customerToken);
      for (let i = 0; i < 10; i++) assert.equal((await ask(c, 'load_messages', { chat_id: b.chat.id })).ok, true, `event ${i}`);
      assert.equal((await ask(c, 'load_messages', { chat_id: b.chat.id })).error.code, 'rate_limited');
      for (const [method, path, body] of [
        ['GET', `/chats/${b.chat.id}/messages`],
        ['POST', `/chats/${b.chat.id}/read`, { up_to_seq: 1 }],
        ['GET', '/chats'],
      ]) {
        const r = await rest(limited.url, method, path, b.customerToken, body);
        assert.equal(r.status, 429, `${method} ${path}`);
        assert.equal(r.body.error.code, 'rate_limited');
        assert.ok(r.body.error.retry_after_ms > 0);
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
      }
      // The worker's budget is their own.
      assert.equal((await rest(limited.url, 'GET', '/chats', b.workerToken)).status, 200);
      c.close();

      // And the other way round (the worker has spent one call already).
      for (let i = 0; i < 9; i++) assert.equal((await rest(limited.url, 'GET', `/chats/${b.chat.id}/messages`, b.workerToken)).status, 200, `call ${i}`);
      assert.equal((await rest(limited.url, 'GET', `/chats/${b.chat.id}/messages`, b.workerToken)).status, 429);
      const w = await connect(limited.url, b.workerToken);
      const r = await ask(w, 'load_messages', { chat_id: b.chat.id });
      assert.equal(r.error.code, 'rate_limited');
      w.close();
    } finally {
      await limited.stop();
    }
  });
});

describe('malformed events', () => {
  test('positional arrays, wrong types, unknown events, bare values: invalid_payload, nothing stored', async () => {
    const b = await acceptedBooking(server.url);
    const s = await connect(server.url, b.customerToken);
    const c = b.chat.id;
    const cases = [
      ['send_message', [c, 'pos-1', 'text', 'positional']],
      ['join_chat', [c]],
      ['mark_read', [c, 1]],
      ['load_messages', [c]],
      ['typing', [c, true]],
      ['send_message', { chat_id: 5, client_id: 'x', kind: 'text', body: 'hi' }],
      ['send_message', { chat_id: c, client_id: 'x', kind: ['text'], body: 'hi' }],
      ['send_message', { chat_id: c, client_id: 'x', kind: 'text', body: { text: 'hi' } }],
      ['typing', { chat_id: c, is_typing: 'yes' }],
      ['mark_read', { chat_id: c, up_to_seq: '1' }],
      ['load_messages', { chat_id: c, limit: 1e300 }],
      ['send_message', 'a string'],
      ['send_message', 42],
      ['send_message', null],
      ['no_such_event', { chat_id: c }],
      ['__proto__', { chat_id: c }],
    ];
    for (const [event, payload] of cases) {
      const r = await ask(s, event, payload);
      assert.equal(r.ok, false, `${event} ${JSON.stringify(payload)}`);
      assert.equal(r.error.code, 'invalid_payload', `${event} ${JSON.stringify(payload)}: ${JSON.stringify(r)}`);
    }
    const page = await ask(s, 'load_messages', { chat_id: c });
    assert.ok(!page.messages.some((m) => m.body === 'positional'), 'a positional send was stored');
    s.close();
  });

  test('an event without an ack callback is handled without an answer; the socket keeps working', async () => {
    const b = await acceptedBooking(server.url);
    const s = await connect(server.url, b.customerToken);
    s.emit('send_message', text(b.chat.id, 'no ack wanted', 'no-ack-1'));
    s.emit('typing', { chat_id: b.chat.id, is_typing: true });
    s.emit('bogus');
    const r = await ask(s, 'send_message', text(b.chat.id, 'with an ack'));
    assert.equal(r.ok, true);
    s.close();
  });

  test('message bodies of 4000 characters are accepted, 4001 refused (also in astral characters)', async () => {
    const b = await acceptedBooking(server.url);
    const s = await connect(server.url, b.customerToken);
    assert.equal((await ask(s, 'send_message', text(b.chat.id, 'x'.repeat(4000)))).ok, true);
    assert.equal((await ask(s, 'send_message', text(b.chat.id, 'x'.repeat(4001)))).error.code, 'invalid_payload');
    assert.equal((await ask(s, 'send_message', text(b.chat.id, '😀'.repeat(4000)))).ok, true);
    assert.equal((await ask(s, 'send_message', text(b.chat.id, '😀'.repeat(4001)))).error.code, 'invalid_payload');
    const ok = await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, text(b.chat.id, 'y'.repeat(4000)));
    assert.equal(ok.status, 201);
    const over = await rest(server.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, text(b.chat.id, 'y'.repeat(4001)));
    assert.equal(over.status, 400);
    assert.equal(over.body.error.code, 'invalid_payload');
    s.close();
  });

  test('deeply nested JSON and lone surrogates: invalid_payload or a closed socket; REST answers 400', async () => {
    const b = await acceptedBooking(server.url);
    let deep = 'x';
    for (let i = 0; i < 1000; i++) deep = [deep];
    const nested = await connect(server.url, b.customerToken);
    const r1 = await ackOrClose(nested, 'send_message', { ...text(b.chat.id, 'deep'), extra: deep });
    assert.ok(r1 === 'disconnected' || r1.error?.code === 'invalid_payload', JSON.stringify(r1).slice(0, 200));
    nested.close();
    const lone = await connect(server.url, b.customerToken);
    const r2 = await ackOrClose(lone, 'send_message', text(b.chat.id, 'half \ud800 a pair'));
    assert.ok(r2 === 'disconnected' || r2.error?.code === 'invalid_payload', JSON.stringify(r2));
    lone.close();

    const raw = async (body) => {
      const res = await fetch(`${server.url}/api/v1/chats/${b.chat.id}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${b.customerToken}`, 'content-type': 'application/json' },
        body,
      });
      return { status: res.status, body: await res.json() };
    };
    const deepRest = await raw(`{"client_id":"d","kind":"text","body":"x","extra":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    assert.equal(deepRest.status, 400);
    assert.equal(deepRest.body.error.code, 'invalid_payload');
    const loneRest = await raw('{"client_id":"l","kind":"text","body":"half \\ud800 a pair"}');
    assert.equal(loneRest.status, 400);
    assert.equal(loneRest.body.error.code, 'invalid_payload');
    const s = await connect(server.url, b.customerToken);
    const page = await ask(s, 'load_messages', { chat_id: b.chat.id });
    assert.ok(!page.messages.some((m) => m.client_id === 'd' || m.client_id === 'l'));
    s.close();
    await stillServing();
  });
});

/** A raw WebSocket to the Socket.IO endpoint: resolves with the TCP socket after the 101. */
function rawWebSocket(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const tcp = net.connect(Number(port), hostname);
    let got = '';
    tcp.once('error', reject);
    tcp.on('data', function onData(d) {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        tcp.off('data', onData);
        if (!got.startsWith('HTTP/1.1 101')) reject(new Error(got));
        else resolve(tcp);
      }
    });
    tcp.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
}

/** A masked client frame (opcode 1: text). */
function frame(payload, opcode = 1) {
  const mask = randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, 0x80 | len]) : Buffer.from([0x80 | opcode, 0x80 | 126, len >> 8, len & 255]);
  return Buffer.concat([head, mask, masked]);
}

const closedOrEnded = (tcp) => new Promise((resolve) => {
  tcp.on('close', () => resolve(true));
  tcp.on('end', () => resolve(true));
});

describe('raw transports', () => {
  test('invalid UTF-8 in a WebSocket text frame closes that connection only', async () => {
    const tcp = await rawWebSocket(server.url);
    const done = closedOrEnded(tcp);
    tcp.on('error', () => {});
    tcp.write(frame(Buffer.from('40')));
    await sleep(200);
    tcp.write(frame(Buffer.concat([Buffer.from('42["typing",{"chat_id":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]')])));
    const t = setTimeout(() => tcp.destroy(new Error('still open')), 15000);
    assert.equal(await done, true);
    clearTimeout(t);
    await stillServing();
  });

  test('malformed polling bodies are refused without a 5xx; the server keeps serving', async () => {
    const open = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling`);
    const body = await open.text();
    const sid = JSON.parse(body.slice(1)).sid;
    for (const garbage of ['', '\x1e\x1e', 'zzz', '4', '42[', '42["send_message",{"a":', '\ud800', Buffer.from([0xff, 0xfe, 0xfd])]) {
      const res = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
        method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: garbage,
      });
      assert.ok(res.status < 500, `${JSON.stringify(String(garbage))}: ${res.status}`);
      await res.arrayBuffer();
    }
    const bogusSid = await fetch(`${server.url}/socket.io/?EIO=4&transport=polling&sid=nope`, { method: 'POST', body: '40' });
    assert.ok(bogusSid.status >= 400 && bogusSid.status < 500, `${bogusSid.status}`);
    await stillServing();
  });
});
