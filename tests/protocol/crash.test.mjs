// The durability guarantee: an acked message survives a SIGKILL right after the ack, and
// re-sending the unacked ones with their client ids ends with exactly one copy of each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { acceptedBooking, ask, connect, history, sleep, startServer, text } from './lib/harness.mjs';

test('SIGKILL mid-stream: every acked message is stored once; retries fill the rest once', async () => {
  const env = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };
  const first = await startServer({ env });
  const b = await acceptedBooking(first.url);
  const s = await connect(first.url, b.customerToken);
  // Enough that the kill lands mid-stream: the writer acks a few hundred in milliseconds.
  const total = 2000;
  const ids = Array.from({ length: total }, (_, i) => `crash-${i}`);
  const acked = new Set();
  // Fire everything, as a client with an outbox would; kill the server after some acks.
  const pending = ids.map((id, i) =>
    s.timeout(5000).emitWithAck('send_message', text(b.chat.id, `m${i}`, id))
      .then((r) => { if (r.ok) acked.add(id); })
      .catch(() => {}),
  );
  const deadline = Date.now() + 20000;
  while (acked.size < 40) {
    assert.ok(Date.now() < deadline, `only ${acked.size} acks`);
    await sleep(1);
  }
  await first.kill();
  await Promise.allSettled(pending);
  s.close();
  assert.ok(acked.size >= 40 && acked.size < total, `acked ${acked.size} before the kill`);

  const second = await startServer({ env, databaseUrl: first.databaseUrl });
  try {
    const c = await connect(second.url, b.customerToken);
    const all = () => history(c, b.chat.id);
    const stored = (await all()).filter((m) => m.kind === 'text');
    const storedIds = stored.map((m) => m.client_id);
    for (const id of acked) assert.ok(storedIds.includes(id), `acked ${id} was lost`);
    assert.equal(new Set(storedIds).size, storedIds.length, 'no duplicates');
    // The client re-sends what it never saw acked, all at once, as its outbox would.
    const resent = await Promise.all(
      ids.flatMap((id, i) => (acked.has(id) ? [] : [ask(c, 'send_message', text(b.chat.id, `m${i}`, id))])),
    );
    for (const r of resent) assert.equal(r.ok, true, JSON.stringify(r));
    const final = (await all()).filter((m) => m.kind === 'text');
    assert.equal(final.length, total);
    assert.deepEqual(new Set(final.map((m) => m.client_id)), new Set(ids));
    const seqs = (await all()).map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'gap-free seq');
    c.close();
  } finally {
    await second.stop();
  }
});

test('SIGTERM: in-flight messages are finished, sockets closed, and the process exits cleanly', async () => {
  const env = { RATE_LIMIT_MESSAGES: '100000', RATE_LIMIT_EVENTS: '100000' };
  const server = await startServer({ env });
  const b = await acceptedBooking(server.url);
  const s = await connect(server.url, b.customerToken);
  const closed = new Promise((r) => s.once('disconnect', r));
  const acked = new Set();
  const pending = Array.from({ length: 200 }, (_, i) =>
    s.timeout(5000).emitWithAck('send_message', text(b.chat.id, `g${i}`, `grace-${i}`))
      .then((r) => { if (r.ok) acked.add(r.message.client_id); })
      .catch(() => {}),
  );
  const deadline = Date.now() + 20000;
  while (acked.size < 20) {
    assert.ok(Date.now() < deadline, `only ${acked.size} acks`);
    await sleep(1);
  }
  const started = Date.now();
  server.proc.kill('SIGTERM');
  const [code] = await new Promise((r) => server.proc.once('exit', (...a) => r(a)));
  assert.equal(code, 0, `exit code ${code}: ${server.stderr()}`);
  assert.ok(Date.now() - started < 15000, 'shut down promptly');
  await closed;
  await Promise.allSettled(pending);
  s.close();

  const again = await startServer({ env, databaseUrl: server.databaseUrl });
  try {
    const c = await connect(again.url, b.customerToken);
    const stored = new Set();
    let after = 0;
    for (;;) {
      const page = await ask(c, 'load_messages', { chat_id: b.chat.id, after_seq: after, limit: 100 });
      page.messages.forEach((m) => m.client_id && stored.add(m.client_id));
      if (!page.has_more) break;
      after = page.messages.at(-1).seq;
    }
    for (const id of acked) assert.ok(stored.has(id), `acked ${id} was lost in the shutdown`);
    c.close();
  } finally {
    await again.stop();
  }
});
