// SPEC §6 as a browser meets it: uploads with fetch + FormData (undici), refusals that arrive
// as answers, and hostile images that cost bounded memory.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { acceptedBooking, startServer, token, uid } from './lib/harness.mjs';

const MAX_UPLOAD = 100_000;

let server;
before(async () => { server = await startServer({ env: { MAX_UPLOAD_BYTES: String(MAX_UPLOAD), CHAT_RETENTION: '1h' } }); });
after(async () => { await server?.stop(); });

/** POST a multipart upload the way a browser does; returns `{ status, body, headers }`. */
async function upload(url, chatId, tok, bytes, name = 'file.txt', type = 'text/plain') {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type }), name);
  const headers = tok ? { authorization: `Bearer ${tok}` } : {};
  const res = await fetch(`${url}/api/v1/chats/${chatId}/attachments`, { method: 'POST', headers, body: form });
  const text = await res.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: res.status, body, headers: res.headers };
}

test('refused uploads reach fetch as their SPEC error, not as a reset connection', async () => {
  const b = await acceptedBooking(server.url);
  const outsider = token(uid('c'), 'customer');
  const small = Buffer.alloc(100, 'a');
  const cases = [
    ['anonymous, 100 bytes', null, small, 401, 'unauthorized'],
    ['outsider, 100 bytes', outsider, small, 404, 'not_found'],
    ['just over the limit', b.customerToken, Buffer.alloc(MAX_UPLOAD + 1, 'a'), 413, 'payload_too_large'],
    ['three times the limit', b.customerToken, Buffer.alloc(3 * MAX_UPLOAD, 'a'), 413, 'payload_too_large'],
    ['anonymous, three times the limit', null, Buffer.alloc(3 * MAX_UPLOAD, 'a'), 401, 'unauthorized'],
    // The declared length is checked before membership (it costs nothing to check).
    ['outsider, three times the limit', outsider, Buffer.alloc(3 * MAX_UPLOAD, 'a'), 413, 'payload_too_large'],
  ];
  // Several rounds: a reset depends on timing, an answer must not.
  for (let round = 0; round < 3; round++) {
    for (const [what, tok, bytes, status, code] of cases) {
      let r;
      try {
        r = await upload(server.url, b.chat.id, tok, bytes);
      } catch (err) {
        assert.fail(`${what}: fetch failed (${err.cause?.code ?? err.message})`);
      }
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, code, what);
    }
  }
  // At the limit it is accepted.
  const ok = await upload(server.url, b.chat.id, b.customerToken, Buffer.alloc(MAX_UPLOAD, 'a'));
  assert.equal(ok.status, 201, JSON.stringify(ok.body));
});

/** A GIF: a `w`×`h` canvas with `frames` frames of one pixel each (a frame bomb when the server
 *  composites every frame onto the canvas). */
function frameBomb(w, h, frames) {
  const u16 = (n) => [n & 0xff, n >> 8];
  const out = [
    ...Buffer.from('GIF89a'), ...u16(w), ...u16(h),
    0xf0, 0, 0, // global colour table of 2 entries
    0, 0, 0, 255, 255, 255,
    0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 3, 1, 0, 0, 0, // loop forever
  ];
  for (let i = 0; i < frames; i++) {
    const x = (i * 7) % w;
    const y = (i * 13) % h;
    out.push(0x21, 0xf9, 4, 0, 2, 0, 0, 0); // graphic control: 20 ms
    out.push(0x2c, ...u16(x), ...u16(y), ...u16(1), ...u16(1), 0);
    out.push(2, 2, 0x4c, 0x01, 0); // LZW: clear, colour 1, end
  }
  out.push(0x3b);
  return Buffer.from(out);
}

function peakRssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(status.match(/VmHWM:\s+(\d+) kB/)[1]);
  return kb / 1024;
}

test('a GIF frame bomb costs bounded memory', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const own = await startServer({ env: { CHAT_RETENTION: '1h' } });
  try {
    const b = await acceptedBooking(own.url);
    const gif = frameBomb(1000, 1000, 200);
    assert.ok(gif.length < 8000, `a small file: ${gif.length} bytes`);
    const before = peakRssMiB(own.proc.pid);
    const r = await upload(own.url, b.chat.id, b.customerToken, gif, 'bomb.gif', 'image/gif');
    const grown = peakRssMiB(own.proc.pid) - before;
    // Composited frames would be 200 × 4 MB; one canvas-sized buffer at most is allowed for.
    assert.ok(grown < 100, `peak memory grew by ${grown.toFixed(0)} MiB`);
    // Accepted (1×1 frames are cheap to copy), as a GIF that still animates.
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.attachment.mime, 'image/gif');
    assert.deepEqual([r.body.attachment.width, r.body.attachment.height], [1000, 1000]);
    const file = await fetch(`${own.url}${r.body.attachment.url}`, { headers: { authorization: `Bearer ${b.customerToken}` } });
    const bytes = Buffer.from(await file.arrayBuffer());
    assert.equal(bytes.subarray(0, 6).toString(), 'GIF89a');
    const frames = bytes.reduce((n, v, i) => n + (v === 0x2c && bytes[i - 8] === 0x21 && bytes[i - 7] === 0xf9 ? 1 : 0), 0);
    assert.equal(frames, 200);
    const thumb = await fetch(`${own.url}${r.body.attachment.thumb_url}`, { headers: { authorization: `Bearer ${b.customerToken}` } });
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
  } finally {
    await own.stop();
  }
});
