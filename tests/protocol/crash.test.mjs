// The durability guarantee: an acked message survives a SIGKILL right after the ack, and
// re-sending the unacked ones with their client ids ends with exactly one copy of each.
import assert from 'node:assert/strict';
import { connect as tcpConnect, createServer } from 'node:net';
import { test } from 'node:test';
import net from 'node:net';
import {
  acceptedBooking, ask, connect, eventually, history, rest, sleep, startServer, text,
} from './lib/harness.mjs';

/**
 * A TCP relay to `url` that cuts both sides right after it passed on the first WebSocket frame
 * (client to server) whose text contains `needle`: the server gets the event, the client never
 * gets its ack.
 */
async function cuttingRelay(url, needle) {
  const { hostname, port } = new URL(url);
  const conns = new Set();
  const srv = createServer((client) => {
    const upstream = tcpConnect({ host: hostname, port: Number(port) });
    conns.add(client).add(upstream);
    upstream.on('data', (d) => client.write(d));
    const cut = () => { client.destroy(); upstream.destroy(); };
    upstream.on('error', cut);
    client.on('error', cut);
    upstream.on('close', cut);
    client.on('close', cut);
    let buf = Buffer.alloc(0);
    let headDone = false;
    let cutting = false;
    client.on('data', (d) => {
      if (cutting) return;
      buf = Buffer.concat([buf, d]);
      let pos = 0;
      if (!headDone) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        headDone = true;
        pos = end + 4;
      }
      // Pass on whole frames, unmasking each to look for the needle.
      for (;;) {
        if (buf.length - pos < 2) break;
        const len7 = buf[pos + 1] & 0x7f;
        const masked = (buf[pos + 1] & 0x80) !== 0;
        let off = pos + 2;
        let len = len7;
        if (len7 === 126) { if (buf.length < off + 2) break; len = buf.readUInt16BE(off); off += 2; }
        if (len7 === 127) { if (buf.length < off + 8) break; len = Number(buf.readBigUInt64BE(off)); off += 8; }
        const maskAt = off;
        if (masked) off += 4;
        if (buf.length < off + len) break;
        const payload = Buffer.from(buf.subarray(off, off + len));
        if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskAt + (i % 4)];
        pos = off + len;
        if (payload.toString('utf8').includes(needle)) {
          cutting = true;
          upstream.write(buf.subarray(0, pos), cut);
          return;
        }
      }
      if (pos > 0) upstream.write(buf.subarray(0, pos));
      buf = buf.subarray(pos);
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${srv.address().port}`,
    close: () => { conns.forEach((c) => c.destroy()); srv.close(); },
  };
}

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

test('a connection cut between commit and ack: the retry with the same client_id gets the original seq', async () => {
  const server = await startServer();
  const relay = await cuttingRelay(server.url, '"send_message"');
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    const viaRelay = await connect(relay.url, b.customerToken);
    assert.ok((await ask(viaRelay, 'join_chat', { chat_id })).ok);
    const gone = new Promise((r) => viaRelay.once('disconnect', r));
    const lost = ask(viaRelay, 'send_message', text(chat_id, 'cut', 'cut-1'), 3000).catch((e) => e);
    await gone;
    assert.ok((await lost) instanceof Error, 'no ack came back through the cut connection');
    viaRelay.close();
    // The server stored it all the same.
    const stored = await eventually(async () => {
      const h = await rest(server.url, 'GET', `/chats/${chat_id}/messages`, b.customerToken);
      return h.status === 200 && h.body.messages.find((m) => m.client_id === 'cut-1');
    }, 'the cut message is stored', 10000);

    const again = await connect(server.url, b.customerToken);
    const retry = await ask(again, 'send_message', text(chat_id, 'cut', 'cut-1'));
    assert.ok(retry.ok, JSON.stringify(retry.error));
    assert.equal(retry.message.id, stored.id);
    assert.equal(retry.message.seq, stored.seq);
    const all = await history(again, chat_id);
    assert.equal(all.filter((m) => m.client_id === 'cut-1').length, 1, 'stored once');
    const seqs = all.map((m) => m.seq);
    assert.deepEqual(seqs, Array.from({ length: seqs.length }, (_, i) => i + 1), 'gap-free seq');
    again.close();
  } finally {
    relay.close();
    await server.stop();
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
