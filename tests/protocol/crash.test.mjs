// The durability guarantee: an acked message survives a SIGKILL right after the ack, and
// re-sending the unacked ones with their client ids ends with exactly one copy of each.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import net from 'node:net';
import { acceptedBooking, ask, connect, eventually, history, sleep, startServer, text } from './lib/harness.mjs';

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

test('SIGTERM: /readyz answers 503 at once; after the grace period new connections are refused while the rest drains', async () => {
  const server = await startServer({ env: { SHUTDOWN_GRACE: '3s', HTTP_BODY_TIMEOUT: '60s', HTTP_IDLE_TIMEOUT: '10m' } });
  const b = await acceptedBooking(server.url);
  assert.equal((await fetch(`${server.url}/readyz`)).status, 200);
  // An upload whose body is still arriving keeps the drain going.
  const { hostname, port } = new URL(server.url);
  const slow = net.connect(Number(port), hostname);
  slow.on('error', () => {});
  await new Promise((r) => slow.once('connect', r));
  slow.write(`POST /api/v1/chats/${b.chat.id}/attachments HTTP/1.1\r\nhost: t\r\nauthorization: Bearer ${b.customerToken}\r\ncontent-type: multipart/form-data; boundary=XyZ\r\ncontent-length: 100000\r\n\r\n--XyZ\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhello`);
  await sleep(300);

  server.proc.kill('SIGTERM');
  let refusedBefore503 = false;
  await eventually(async () => {
    try {
      return (await fetch(`${server.url}/readyz`)).status === 503;
    } catch {
      refusedBefore503 = true;
      return true;
    }
  }, '/readyz answering 503 after SIGTERM', 20000, 50);
  assert.equal(refusedBefore503, false, '/readyz never answered 503: connections were refused at once');
  await eventually(async () => {
    try { await fetch(`${server.url}/healthz`); return false; } catch { return true; }
  }, 'new connections refused during the drain', 20000);
  assert.equal(server.proc.exitCode, null, 'the server is still draining the slow upload');
  slow.destroy();
  const [code] = await new Promise((r) => (server.proc.exitCode !== null ? r([server.proc.exitCode]) : server.proc.once('exit', (...a) => r(a))));
  assert.equal(code, 0, server.stderr());
});
