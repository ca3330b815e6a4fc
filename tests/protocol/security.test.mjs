// SPEC §2: handshake authentication, origins, expiry, and access to chats that are not yours.
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { acceptedBooking, ask, collect, connect, next, refusal, rest, sleep, startServer, text, token, uid } from './lib/harness.mjs';

let server;
// No clock-skew leeway, so short-lived tokens expire when they say.
before(async () => { server = await startServer({ env: { SOCKET_CORS_ORIGIN: 'https://app.example', CHAT_RETENTION: '1h', JWT_LEEWAY: '0' } }); });
after(async () => { await server?.stop(); });

describe('handshake', () => {
  test('no token, a wrong signature, expired, alg none, a bad role, a query-string token: unauthorized', async () => {
    const now = Math.floor(Date.now() / 1000);
    const cases = {
      none: undefined,
      wrongSignature: token('u1', 'customer', { secret: 'another-secret-entirely-0123456789' }),
      // Beyond JWT_LEEWAY (30 s by default).
      expired: token('u1', 'customer', { ttl: -120 }),
      algNone: token('u1', 'customer', { header: { alg: 'none', typ: 'JWT' } }),
      badRole: token('u1', 'admin'),
      noExp: token('u1', 'customer', { extra: { exp: undefined } }),
      garbage: 'not.a.jwt',
    };
    for (const [name, tok] of Object.entries(cases)) {
      const err = await refusal(server.url, tok);
      assert.equal(err.message, 'unauthorized', name);
    }
    const viaQuery = await refusal(server.url, undefined, { query: { token: token('u1', 'customer') } });
    assert.equal(viaQuery.message, 'unauthorized');
    void now;
  });

  test('a Bearer header on the handshake is accepted', async () => {
    const s = await connect(server.url, undefined, { extraHeaders: { authorization: `Bearer ${token(uid('u'), 'customer')}` } });
    assert.ok(s.connected);
    s.close();
  });

  test('Origin: the configured one and none are allowed; a foreign one is forbidden', async () => {
    const ok = await connect(server.url, token(uid('u'), 'worker'), { extraHeaders: { origin: 'https://app.example' } });
    ok.close();
    const err = await refusal(server.url, token(uid('u'), 'worker'), { extraHeaders: { origin: 'https://evil.example' } });
    assert.equal(err.message, 'forbidden');
    const polling = await refusal(server.url, token(uid('u'), 'worker'), { transports: ['polling'], extraHeaders: { origin: 'https://evil.example' } });
    assert.equal(polling.message, 'forbidden');
  });

  test('a socket is disconnected when its token expires, unless refreshed', async () => {
    const user = uid('u');
    const short = await connect(server.url, token(user, 'customer', { ttl: 2 }));
    const expired = next(short, 'token_expired', () => true, 5000);
    const gone = new Promise((r) => short.once('disconnect', r));
    await expired;
    await gone;

    const kept = await connect(server.url, token(user, 'customer', { ttl: 2 }));
    const r = await ask(kept, 'refresh_token', { token: token(user, 'customer', { ttl: 60 }) });
    assert.equal(r.ok, true);
    const other = await ask(kept, 'refresh_token', { token: token(uid('x'), 'customer') });
    assert.equal(other.error.code, 'forbidden');
    await sleep(3000);
    assert.ok(kept.connected, 'still connected after the first token expired');
    kept.close();
  });
});

describe('access', () => {
  test('outsiders get not_found on every event and route, exactly as for a missing chat, and nothing leaks', async () => {
    const b = await acceptedBooking(server.url);
    const other = await acceptedBooking(server.url);
    const owner = await connect(server.url, b.customerToken);
    await ask(owner, 'join_chat', { chat_id: b.chat.id });
    const outsiders = {
      otherCustomer: other.customerToken,
      otherWorker: other.workerToken,
      // The right user id with the wrong role is not the right seat.
      roleSwap: token(b.customer.id, 'worker'),
    };
    for (const [who, tok] of Object.entries(outsiders)) {
      const s = await connect(server.url, tok);
      const leaked = collect(s, 'new_message');
      const c = b.chat.id;
      const events = {
        join_chat: { chat_id: c },
        join_by_booking: { booking_id: b.booking },
        leave_chat: { chat_id: c },
        send_message: text(c, 'let me in'),
        load_messages: { chat_id: c },
        typing: { chat_id: c, is_typing: true },
        mark_read: { chat_id: c, up_to_seq: 1 },
      };
      for (const [name, payload] of Object.entries(events)) {
        const event = name === 'join_by_booking' ? 'join_chat' : name;
        const r = await ask(s, event, payload);
        assert.equal(r.ok, false, `${who} ${name}`);
        // No existence oracle: someone else's chat or booking answers as a missing one.
        assert.equal(r.error.code, 'not_found', `${who} ${name}: ${r.error.code}`);
        const missing = await ask(s, event, JSON.parse(JSON.stringify(payload).replaceAll(c, 'no-such-chat').replaceAll(b.booking, 'no-such-booking')));
        assert.deepEqual(r.error, missing.error, `${who} ${name}: same answer as a missing one`);
        assert.equal(r.chat, undefined);
        assert.equal(r.messages, undefined);
      }
      const routes = [
        ['GET', `/chats/${c}`],
        ['GET', `/bookings/${b.booking}/chat`],
        ['GET', `/chats/${c}/messages`],
        ['POST', `/chats/${c}/messages`, text(c, 'rest intruder')],
        ['POST', `/chats/${c}/read`, { up_to_seq: 1 }],
      ];
      for (const [method, path, body] of routes) {
        const r = await rest(server.url, method, path, tok, body);
        assert.equal(r.status, 404, `${who} ${method} ${path}: ${r.status}`);
        const m = await rest(server.url, method, path.replace(c, 'no-such-chat').replace(b.booking, 'no-such-booking'), tok, body);
        assert.deepEqual([r.status, r.body], [m.status, m.body], `${who} ${method} ${path}: same answer as a missing one`);
      }
      const mine = await rest(server.url, 'GET', '/chats', tok);
      assert.ok(!mine.body.chats.some((x) => x.id === c), `${who} lists the chat`);
      // A participant speaks; the outsider hears nothing.
      await ask(owner, 'send_message', text(c, `secret for ${who}`));
      await sleep(200);
      assert.equal(leaked.length, 0, `${who} received a message of a chat not theirs`);
      s.close();
    }
    const history = await ask(owner, 'load_messages', { chat_id: b.chat.id });
    assert.ok(!history.messages.some((m) => m.body === 'let me in' || m.body === 'rest intruder'));
    owner.close();
  });

  test('REST needs a Bearer token', async () => {
    for (const [method, path] of [['GET', '/chats'], ['GET', '/chats/x'], ['POST', '/chats/x/messages']]) {
      const r = await rest(server.url, method, path, undefined, method === 'POST' ? {} : undefined);
      assert.equal(r.status, 401);
      assert.equal(r.body.error.code, 'unauthorized');
    }
    const q = await fetch(`${server.url}/api/v1/chats?token=${token('u1', 'customer')}`);
    assert.equal(q.status, 401, 'tokens in query strings are not accepted');
  });
});

describe('limits', () => {
  test('the 21st message in a window is rate_limited with retry_after_ms; others are not slowed', async () => {
    // A window long enough that no token comes back while the 20 round trips run, however slow
    // the machine: 20 per 10 s refills one every 500 ms, which a loaded machine can exceed.
    const limited = await startServer({ env: { CHAT_RETENTION: '1h', RATE_LIMIT_WINDOW: '1h' } });
    try {
      const b = await acceptedBooking(limited.url);
      const c = await connect(limited.url, b.customerToken);
      const w = await connect(limited.url, b.workerToken);
      for (let i = 0; i < 20; i++) assert.equal((await ask(c, 'send_message', text(b.chat.id, `m${i}`))).ok, true, `message ${i}`);
      const r = await ask(c, 'send_message', text(b.chat.id, 'one too many'));
      assert.equal(r.ok, false);
      assert.equal(r.error.code, 'rate_limited');
      assert.ok(r.error.retry_after_ms > 0 && r.error.retry_after_ms <= 3600 * 1000, `${r.error.retry_after_ms}`);
      const rr = await rest(limited.url, 'POST', `/chats/${b.chat.id}/messages`, b.customerToken, text(b.chat.id, 'rest too'));
      assert.equal(rr.status, 429);
      assert.ok(Number(rr.headers.get('retry-after')) >= 1);
      assert.equal((await ask(w, 'send_message', text(b.chat.id, 'the worker is fine'))).ok, true);
      c.close();
      w.close();
    } finally {
      await limited.stop();
    }
  });

  test('an oversized frame closes the connection', async () => {
    const s = await connect(server.url, token(uid('u'), 'customer'));
    const closed = new Promise((r) => s.once('disconnect', r));
    s.emit('send_message', { chat_id: 'x', client_id: 'big', kind: 'text', body: 'x'.repeat(200 * 1024) });
    const reason = await closed;
    assert.ok(reason, 'disconnected');
  });
});

describe('asymmetric keys', () => {
  test('RS256 tokens verify; the public key used as an HS256 secret does not', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = publicKey.export({ type: 'spki', format: 'pem' });
    const dir = mkdtempSync(join(tmpdir(), 'omw-key-'));
    writeFileSync(join(dir, 'pub.pem'), pem);
    const rs = await startServer({ env: { JWT_SECRET: '', JWT_PUBLIC_KEY_FILE: join(dir, 'pub.pem') } });
    try {
      const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
      const now = Math.floor(Date.now() / 1000);
      const head = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'u1', role: 'customer', exp: now + 60, iat: now })}`;
      const good = `${head}.${sign('sha256', Buffer.from(head), privateKey).toString('base64url')}`;
      const s = await connect(rs.url, good);
      s.close();
      const confused = token('u1', 'customer', { secret: pem });
      assert.equal((await refusal(rs.url, confused)).message, 'unauthorized');
    } finally {
      await rs.stop();
    }
  });
});
