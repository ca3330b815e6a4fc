// Several nodes: two omw-chat processes on their own ports share one MariaDB/PostgreSQL
// database and Redis. Sockets on either node see the same chat: messages, typing, receipts,
// presence, lifecycle pushes, rate limits; seq and idempotency hold when both nodes write at
// once; a Redis outage loses no acked message; a lost database is refused fast.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { describe, test } from 'node:test';
import {
  acceptedBooking, ask, collect, connect, eventually, freePort, history, next, platform, rest, sleep,
  startServer, text, token, uid,
} from './lib/harness.mjs';
import { pushService, pushingEnv } from './lib/push.mjs';

const REDIS = process.env.OMW_TEST_REDIS_URL;
const DB = process.env.OMW_TEST_DATABASE_URL ?? 'sqlite';
const serverDb = !DB.startsWith('sqlite');
if (serverDb && !REDIS && process.env.CI === 'true') {
  throw new Error('CI=true but OMW_TEST_REDIS_URL is not set: the several-nodes suite cannot run');
}
const skip = !serverDb
  ? 'several nodes share a MariaDB/PostgreSQL database, not a SQLite file'
  : !REDIS ? 'set OMW_TEST_REDIS_URL to run the several-nodes suite' : false;

/** Two nodes on one database and one Redis namespace of their own. */
async function twoNodes({ redisUrl = REDIS, env = {} } = {}) {
  const common = { REDIS_URL: redisUrl, REDIS_PREFIX: uid('omw-t'), ...env };
  const [a, b] = await Promise.all([
    startServer({ env: common, databaseUrl: DB }),
    startServer({ env: common, databaseUrl: DB }),
  ]);
  return { a, b, stop: () => Promise.all([a.stop(), b.stop()]) };
}

/** Run `body` with two fresh nodes, stopped afterwards whatever happens. */
async function onTwoNodes(opts, body) {
  const nodes = await twoNodes(opts);
  try {
    return await body(nodes);
  } finally {
    await nodes.stop();
  }
}

/** A metric summed over its series (`omw_redis_errors_total` has one per `op`), or undefined. */
const metric = async (url, name) => {
  const body = await (await fetch(`${url}/metrics`)).text();
  const lines = body.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return lines.length === 0 ? undefined : lines.reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
};

/** A redis-server of the test's own on `port` (so the test can stop and restart it). */
async function ownRedis(port) {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await eventually(() => new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' }, () => { c.end(); resolve(true); });
    c.on('error', () => resolve(false));
  }), 'redis-server listening', 10000, 50);
  return proc;
}

describe('two nodes, one database, Redis', { skip }, () => {
  test('customer on node A and worker on node B: messages, typing, receipts, presence', () => onTwoNodes({}, async ({ a, b }) => {
    const bk = await acceptedBooking(a.url);
    const chat_id = bk.chat.id;
    const cust = await connect(a.url, bk.customerToken);
    const workerOnline = next(cust, 'user_status_update', (d) => d.user_id === bk.worker.id && d.status === 'online');
    const work = await connect(b.url, bk.workerToken);
    await workerOnline;
    assert.ok((await ask(cust, 'join_chat', { chat_id })).ok);
    const joined = await ask(work, 'join_chat', { chat_id });
    assert.ok(joined.ok);
    const custSeen = joined.participants.find((p) => p.id === bk.customer.id);
    assert.equal(custSeen.online, true, 'node B knows the customer is online on node A');

    const atB = next(work, 'new_message', (d) => d.message.body === 'hello from A');
    const sent = await ask(cust, 'send_message', text(chat_id, 'hello from A'));
    assert.ok(sent.ok);
    assert.equal((await atB).message.id, sent.message.id);
    const atA = next(cust, 'new_message', (d) => d.message.body === 'hello from B');
    const reply = await ask(work, 'send_message', text(chat_id, 'hello from B'));
    assert.equal((await atA).message.seq, reply.message.seq);

    const typingOn = next(cust, 'user_typing', (d) => d.user_id === bk.worker.id && d.is_typing);
    assert.ok((await ask(work, 'typing', { chat_id, is_typing: true })).ok);
    await typingOn;
    const typingOff = next(cust, 'user_typing', (d) => d.user_id === bk.worker.id && !d.is_typing);
    assert.ok((await ask(work, 'typing', { chat_id, is_typing: false })).ok);
    await typingOff;

    const read = next(work, 'messages_read', (d) => d.user_id === bk.customer.id);
    assert.ok((await ask(cust, 'mark_read', { chat_id, up_to_seq: reply.message.seq })).ok);
    assert.equal((await read).up_to_seq, reply.message.seq);

    // A second device of the worker on node A: closing the one on B does not make them
    // offline; closing both does.
    const work2 = await connect(a.url, bk.workerToken);
    const offline = collect(cust, 'user_status_update');
    work.close();
    await sleep(700);
    assert.deepEqual(offline.filter((d) => d.status === 'offline'), [], 'still online on node A');
    const gone = next(cust, 'user_status_update', (d) => d.user_id === bk.worker.id && d.status === 'offline');
    work2.close();
    assert.ok((await gone).last_seen);
    cust.close();
  }));

  test('a worker attending on node A gets no push for a message sent on node B; blurred, one', async () => {
    const svc = await pushService();
    try {
      await onTwoNodes({ env: pushingEnv() }, async ({ a, b }) => {
        const bk = await acceptedBooking(a.url);
        const sub = svc.subscription(bk.worker.id);
        assert.equal((await rest(a.url, 'POST', '/push/subscriptions', bk.workerToken, sub)).status, 201);
        const work = await connect(a.url, bk.workerToken);
        assert.equal((await ask(work, 'join_chat', { chat_id: bk.chat.id })).ok, true);
        assert.deepEqual(await ask(work, 'presence', { focused: true }), { ok: true });
        const cust = await connect(b.url, bk.customerToken);
        // Both nodes run ladder steps: whichever runs this one asks the other.
        for (const body of ['at the gate', 'still here']) {
          assert.equal((await ask(cust, 'send_message', text(bk.chat.id, body))).ok, true);
          await sleep(1500);
        }
        assert.equal(svc.seen.length, 0, 'attending on the other node: no push');
        assert.deepEqual(await ask(work, 'presence', { focused: false }), { ok: true });
        assert.equal((await ask(cust, 'send_message', text(bk.chat.id, 'hello?'))).ok, true);
        await eventually(() => svc.seen.length === 1, 'one push once the worker blurred');
        work.close();
        cust.close();
      });
    } finally {
      await svc.close();
    }
  });

  test('a booking accepted through node A opens the chat for both parties on node B', () => onTwoNodes({}, async ({ a, b }) => {
    const booking = uid('b');
    const customer = { id: uid('c'), name: 'Alice' };
    const worker = { id: uid('w'), name: 'Bob' };
    assert.equal((await platform(a.url, booking, 'requested', { customer, worker })).status, 200);
    const cust = await connect(b.url, token(customer.id, 'customer'));
    const work = await connect(b.url, token(worker.id, 'worker'));
    const forCust = next(cust, 'chat_available', (d) => d.chat.booking_id === booking);
    const forWork = next(work, 'chat_available', (d) => d.chat.booking_id === booking);
    const accepted = await platform(a.url, booking, 'accepted', { customer, worker });
    assert.equal(accepted.status, 200);
    assert.equal((await forCust).chat.id, accepted.body.chat.id);
    assert.equal((await forWork).chat.id, accepted.body.chat.id);
    cust.close();
    work.close();
  }));

  test('completing the booking on node A closes the chat for the worker on node B', () => onTwoNodes({}, async ({ a, b }) => {
    const bk = await acceptedBooking(a.url);
    const chat_id = bk.chat.id;
    const work = await connect(b.url, bk.workerToken);
    assert.ok((await ask(work, 'join_chat', { chat_id })).ok);
    // The worker's node has the chat cached as open from the join and from typing.
    assert.ok((await ask(work, 'typing', { chat_id, is_typing: true })).ok);
    const closed = next(work, 'chat_closed', (d) => d.chat_id === chat_id);
    assert.equal((await bk.move('in_progress')).status, 200);
    assert.equal((await bk.move('completed')).status, 200);
    assert.equal((await closed).reason, 'completed');
    // Node B no longer takes anything for this chat.
    await eventually(async () => !(await ask(work, 'typing', { chat_id, is_typing: true })).ok,
      'typing refused on node B', 2000);
    const late = await ask(work, 'send_message', text(chat_id, 'too late'));
    assert.equal(late.ok, false);
    assert.ok(['chat_closed', 'not_found'].includes(late.error.code), late.error.code);
    work.close();
  }));

  test('both nodes writing into one chat at once: seq gap-free, retries on the other node not duplicated', () => onTwoNodes({ env: { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' } }, async ({ a, b }) => {
    const bk = await acceptedBooking(a.url);
    const chat_id = bk.chat.id;
    const sockets = await Promise.all([
      connect(a.url, bk.customerToken), connect(b.url, bk.customerToken),
      connect(a.url, bk.workerToken), connect(b.url, bk.workerToken),
    ]);
    await Promise.all(sockets.map((s) => ask(s, 'join_chat', { chat_id })));
    const live = collect(sockets[3], 'new_message');
    const perSocket = 50;
    const acks = await Promise.all(sockets.flatMap((s, i) =>
      Array.from({ length: perSocket }, (_, n) => ask(s, 'send_message', text(chat_id, `s${i}-${n}`, `cc-${i}-${n}`)))));
    assert.ok(acks.every((r) => r.ok), JSON.stringify(acks.find((r) => !r.ok)));

    // The same client id again, through the other node: the stored message comes back.
    const first = acks[0].message; // sent by the customer on node A
    const retry = await ask(sockets[1], 'send_message', text(chat_id, 's0-0', first.client_id));
    assert.ok(retry.ok);
    assert.equal(retry.message.id, first.id);
    assert.equal(retry.message.seq, first.seq);
    // And the same fresh client id through both nodes at the same moment: one message.
    const [x, y] = await Promise.all([
      ask(sockets[2], 'send_message', text(chat_id, 'twice', 'both-nodes')),
      ask(sockets[3], 'send_message', text(chat_id, 'twice', 'both-nodes')),
    ]);
    assert.ok(x.ok && y.ok);
    assert.equal(x.message.id, y.message.id);

    const all = await history(sockets[0], chat_id);
    const seqs = all.map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'seq 1..n without gaps');
    const userMsgs = all.filter((m) => m.client_id);
    assert.equal(userMsgs.length, 4 * perSocket + 1);
    assert.equal(new Set(userMsgs.map((m) => m.client_id)).size, userMsgs.length, 'each client id once');
    await eventually(() => live.length >= 4 * perSocket + 1, 'all live deliveries on node B', 5000);
    await sleep(300);
    const ids = live.map((d) => d.message.id);
    assert.equal(new Set(ids).size, ids.length, 'no message delivered twice');
    sockets.forEach((s) => s.close());
  }));

  test('rate limits count sends on both nodes together', () => onTwoNodes({ env: { RATE_LIMIT_MESSAGES: '5', RATE_LIMIT_WINDOW: '60s' } }, async ({ a, b }) => {
    const bk = await acceptedBooking(a.url);
    const chat_id = bk.chat.id;
    const onA = await connect(a.url, bk.customerToken);
    const onB = await connect(b.url, bk.customerToken);
    for (let i = 0; i < 5; i++) {
      const r = await ask(i % 2 ? onB : onA, 'send_message', text(chat_id, `m${i}`));
      assert.ok(r.ok, `send ${i}: ${JSON.stringify(r.error)}`);
    }
    for (const s of [onA, onB]) {
      const r = await ask(s, 'send_message', text(chat_id, 'one too many'));
      assert.equal(r.ok, false);
      assert.equal(r.error.code, 'rate_limited');
      assert.ok(r.error.retry_after_ms > 0);
    }
    onA.close();
    onB.close();
  }));

  test('Redis stopped and restarted: acked messages kept, cross-node delivery resumes', async () => {
    const port = await freePort();
    const startRedis = () => ownRedis(port);
    let redis = await startRedis();
    const nodes = await twoNodes({ redisUrl: `redis://127.0.0.1:${port}`, env: { RATE_LIMIT_MESSAGES: '1000' } });
    try {
      const { a, b } = nodes;
      const bk = await acceptedBooking(a.url);
      const chat_id = bk.chat.id;
      const cust = await connect(a.url, bk.customerToken);
      const work = await connect(b.url, bk.workerToken);
      await ask(cust, 'join_chat', { chat_id });
      await ask(work, 'join_chat', { chat_id });
      const before = next(work, 'new_message', (d) => d.message.body === 'before');
      await ask(cust, 'send_message', text(chat_id, 'before'));
      const lastLive = (await before).message.seq;

      const exited = new Promise((r) => redis.on('exit', r));
      redis.kill('SIGKILL');
      await exited;
      const acked = [];
      for (let i = 0; i < 10; i++) {
        const t0 = Date.now();
        const r = await ask(cust, 'send_message', text(chat_id, `during ${i}`));
        assert.ok(r.ok, `acked while Redis is down: ${JSON.stringify(r.error)}`);
        assert.ok(Date.now() - t0 < 2000, `ack took ${Date.now() - t0} ms`);
        acked.push(r.message);
      }
      await eventually(async () => (await metric(a.url, 'omw_redis_up')) === 0, 'omw_redis_up 0 on node A');
      assert.ok((await metric(a.url, 'omw_redis_errors_total')) > 0);

      redis = await startRedis();
      // Delivery across nodes comes back by itself.
      let resumedSeq;
      await eventually(async () => {
        const arrived = next(work, 'new_message', (d) => d.message.body.startsWith('after'), 800).catch(() => null);
        const r = await ask(cust, 'send_message', text(chat_id, `after ${Date.now()}`));
        assert.ok(r.ok);
        acked.push(r.message);
        const got = await arrived;
        if (got) resumedSeq = got.message.seq;
        return got;
      }, 'cross-node delivery after Redis restart', 20000, 0);
      await eventually(async () => (await metric(b.url, 'omw_redis_up')) === 1, 'omw_redis_up 1 on node B');
      // The worker catches up on what it missed.
      const missed = await history(work, chat_id, lastLive);
      const stored = new Set(missed.map((m) => m.id));
      for (const m of acked) assert.ok(stored.has(m.id), `acked message ${m.seq} is stored`);
      assert.ok(missed.some((m) => m.seq === resumedSeq));
      assert.match(a.log(), /redis unreachable/);
      assert.match(a.log(), /redis reachable again/);
      cust.close();
      work.close();
    } finally {
      await nodes.stop();
      redis.kill('SIGKILL');
    }
  });

  test('a chat closed on node A while Redis is down is closed on node B once Redis is back', async () => {
    const port = await freePort();
    const startRedis = () => ownRedis(port);
    let redis = await startRedis();
    // Kept after closing, so node B's stale copy would still find the chat.
    const nodes = await twoNodes({ redisUrl: `redis://127.0.0.1:${port}`, env: { CHAT_RETENTION: '1h' } });
    try {
      const { a, b } = nodes;
      const bk = await acceptedBooking(a.url);
      const chat_id = bk.chat.id;
      const work = await connect(b.url, bk.workerToken);
      // Node B caches the chat as open.
      assert.ok((await ask(work, 'join_chat', { chat_id })).ok);
      assert.ok((await ask(work, 'typing', { chat_id, is_typing: true })).ok);
      assert.ok((await ask(work, 'typing', { chat_id, is_typing: false })).ok);

      const exited = new Promise((r) => redis.on('exit', r));
      redis.kill('SIGKILL');
      await exited;
      await eventually(async () => (await metric(a.url, 'omw_redis_up')) === 0, 'omw_redis_up 0 on node A');
      assert.equal((await bk.move('cancelled')).status, 200);
      redis = await startRedis();
      await eventually(async () => (await metric(a.url, 'omw_redis_up')) === 1, 'omw_redis_up 1 on node A');
      await eventually(async () => (await metric(b.url, 'omw_redis_up')) === 1, 'omw_redis_up 1 on node B');
      // Node B learns of the close: nothing more goes into the chat through it.
      await eventually(async () => {
        const r = await ask(work, 'typing', { chat_id, is_typing: true });
        return !r.ok && r.error.code === 'chat_closed';
      }, 'typing refused with chat_closed on node B', 10000, 200);
      const read = await ask(work, 'mark_read', { chat_id, up_to_seq: 1 });
      assert.equal(read.ok, false);
      assert.equal(read.error.code, 'chat_closed');
      const late = await ask(work, 'send_message', text(chat_id, 'too late'));
      assert.equal(late.ok, false);
      assert.equal(late.error.code, 'chat_closed');
      work.close();
    } finally {
      await nodes.stop();
      redis.kill('SIGKILL');
    }
  });

  test('a node that loses its database is not ready and refuses sends with unavailable, fast', async () => {
    // The node reaches the database through a TCP relay the test can cut.
    const target = new URL(DB);
    const relayPort = await freePort();
    const conns = new Set();
    let relay;
    const openRelay = () => new Promise((resolve) => {
      relay = createServer((client) => {
        const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
        conns.add(client); conns.add(upstream);
        client.pipe(upstream).pipe(client);
        const drop = () => { client.destroy(); upstream.destroy(); conns.delete(client); conns.delete(upstream); };
        client.on('error', drop); upstream.on('error', drop); client.on('close', drop); upstream.on('close', drop);
      });
      relay.listen(relayPort, '127.0.0.1', resolve);
    });
    const cutRelay = () => new Promise((resolve) => { relay.close(resolve); for (const c of conns) c.destroy(); conns.clear(); });
    await openRelay();
    const viaRelay = new URL(DB);
    viaRelay.hostname = '127.0.0.1';
    viaRelay.port = String(relayPort);
    const node = await startServer({ databaseUrl: viaRelay.toString(), env: { REDIS_URL: REDIS, REDIS_PREFIX: uid('omw-t') } });
    try {
      const bk = await acceptedBooking(node.url);
      const chat_id = bk.chat.id;
      const cust = await connect(node.url, bk.customerToken);
      assert.ok((await ask(cust, 'join_chat', { chat_id })).ok);
      assert.equal((await fetch(`${node.url}/readyz`)).status, 200);

      await cutRelay();
      const t0 = Date.now();
      const r = await ask(cust, 'send_message', text(chat_id, 'into the void'));
      const took = Date.now() - t0;
      assert.equal(r.ok, false);
      assert.equal(r.error.code, 'unavailable');
      assert.ok(took < 5000, `refused after ${took} ms`);
      const t1 = Date.now();
      assert.equal((await fetch(`${node.url}/readyz`)).status, 503);
      assert.ok(Date.now() - t1 < 5000, `readyz answered after ${Date.now() - t1} ms`);

      await openRelay();
      await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 200, 'ready again', 15000, 250);
      const again = await eventually(async () => {
        const x = await ask(cust, 'send_message', text(chat_id, 'back'));
        return x.ok && x;
      }, 'sends accepted again', 10000, 250);
      assert.ok(again.message.seq > 1);
      cust.close();
    } finally {
      await node.stop();
      await cutRelay();
    }
  });
});
