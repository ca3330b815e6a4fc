// Attending (SPEC §9.2): a recipient whose page is focused on a chat it joined gets no push for
// it; one that blurred, left the chat or never said gets one. `presence` is checked like every
// event.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { acceptedBooking, ask, connect, eventually, rest, sleep, startServer, text } from './lib/harness.mjs';
import { pushService, pushingEnv } from './lib/push.mjs';

// Nothing here depends on the database: SQLite only (cluster.test.mjs runs attending across
// nodes on the server databases).
const DB = process.env.OMW_TEST_DATABASE_URL ?? 'sqlite';
const skip = DB.startsWith('sqlite') ? false : 'storage-independent: runs on SQLite';

describe('presence and attending', { skip }, () => {
  let server;
  let svc;
  before(async () => {
    svc = await pushService();
    server = await startServer({ env: pushingEnv() });
  });
  after(async () => {
    await server?.stop();
    await svc?.close();
  });

  /** A chat whose worker has one subscribed device; the device's pushes so far. */
  async function chatWithSubscribedWorker() {
    const b = await acceptedBooking(server.url);
    const sub = svc.subscription(b.worker.id);
    const r = await rest(server.url, 'POST', '/push/subscriptions', b.workerToken, sub);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const pushes = () => svc.seen.filter((u) => u.endsWith(`/${b.worker.id}`)).length;
    const customer = await connect(server.url, b.customerToken);
    const send = async (body) => assert.equal((await ask(customer, 'send_message', text(b.chat.id, body))).ok, true);
    return { b, pushes, customer, send };
  }

  /** Long enough for the push step (300 ms) to have run: for asserting that none came. */
  const pushWindow = () => sleep(1500);
  const pushed = (pushes, n, what) => eventually(() => pushes() === n, what);

  test('a focused socket in the chat holds pushes back; blurring lets the next one through', async () => {
    const { b, pushes, customer, send } = await chatWithSubscribedWorker();
    const worker = await connect(server.url, b.workerToken);
    assert.equal((await ask(worker, 'join_chat', { chat_id: b.chat.id })).ok, true);
    assert.deepEqual(await ask(worker, 'presence', { focused: true }), { ok: true });
    await send('are you coming?');
    await pushWindow();
    assert.equal(pushes(), 0, 'attending: no push');

    assert.deepEqual(await ask(worker, 'presence', { focused: false }), { ok: true });
    await send('hello?');
    await pushed(pushes, 1, 'blurred: one push');
    await pushWindow();
    assert.equal(pushes(), 1, 'one ladder, one push');
    worker.close();
    customer.close();
  });

  test('focus counts for the chats the socket joined, before or after it focused', async () => {
    const { b, pushes, customer, send } = await chatWithSubscribedWorker();
    const worker = await connect(server.url, b.workerToken);
    assert.deepEqual(await ask(worker, 'presence', { focused: true }), { ok: true });
    await send('one');
    await pushed(pushes, 1, 'focused elsewhere, not in this chat: pushed');
    // Its ladder ends at the second step (600 ms): the next message starts another.
    await sleep(1000);

    assert.equal((await ask(worker, 'join_chat', { chat_id: b.chat.id })).ok, true);
    await send('two');
    await pushWindow();
    assert.equal(pushes(), 1, 'joined while focused: attending');

    assert.equal((await ask(worker, 'leave_chat', { chat_id: b.chat.id })).ok, true);
    await send('three');
    await pushed(pushes, 2, 'left the chat: pushed');

    // A disconnect forgets the focus.
    assert.equal((await ask(worker, 'join_chat', { chat_id: b.chat.id })).ok, true);
    worker.close();
    await send('four');
    await pushed(pushes, 3, 'gone: pushed');
    customer.close();
  });

  test('presence is refused with invalid_payload unless it is { focused: bool }', async () => {
    const { customer } = await chatWithSubscribedWorker();
    for (const bad of [{}, { focused: 'yes' }, { focused: null }, [true], 'focused']) {
      const r = await ask(customer, 'presence', bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      assert.equal(r.error.code, 'invalid_payload', JSON.stringify(bad));
    }
    customer.close();
  });
});
