// Shared fixtures for the protocol tests: the real omw-chat binary on a loopback port, tokens,
// the platform API, and promise helpers around the official socket.io-client.
import { spawn } from 'node:child_process';
import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io } from 'socket.io-client';

export const SECRET = 'protocol-test-secret-0123456789abcdef';
export const PLATFORM_KEY = 'protocol-platform-key-0123456789';

const BIN = process.env.OMW_BIN;
const DB = process.env.OMW_TEST_DATABASE_URL ?? 'sqlite';
if (!BIN) throw new Error('OMW_BIN must name the omw-chat binary (the cargo test sets it)');

function freshDatabaseUrl() {
  // SQLite: one file per server (a file is not shared between processes here).
  if (DB.startsWith('sqlite')) return `sqlite://${join(mkdtempSync(join(tmpdir(), 'omw-proto-')), 'chat.db')}`;
  return DB;
}

/**
 * The encryption key of every server of the suite, as of one deployment: node A reads what node B
 * sealed, and the test files (processes of their own) share one database. A server refuses to
 * start with a key file that does not open the database's chat keys.
 */
const TEST_KEY = Buffer.from('omw-chat protocol tests key 0001').toString('base64');
const KEY_FILE = join(mkdtempSync(join(tmpdir(), 'omw-keys-')), 'encryption.key');
writeFileSync(KEY_FILE, JSON.stringify({ current: 1, epochs: { 1: TEST_KEY } }), { mode: 0o600 });

/** Start the server; resolves once it listens. `env` adds or overrides settings. */
export async function startServer({ env = {}, databaseUrl } = {}) {
  const dbUrl = databaseUrl ?? freshDatabaseUrl();
  const proc = spawn(BIN, ['serve'], {
    // What the server creates under ./data (its VAPID key) lands in a folder of its own.
    cwd: mkdtempSync(join(tmpdir(), 'omw-cwd-')),
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      JWT_SECRET: SECRET,
      PLATFORM_API_KEY: PLATFORM_KEY,
      DATABASE_URL: dbUrl,
      UPLOAD_DIR: mkdtempSync(join(tmpdir(), 'omw-up-')),
      ENCRYPTION_KEY_FILE: KEY_FILE,
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; if (process.env.OMW_SERVER_LOG) process.stderr.write(d); });
  let out = '';
  proc.stdout.on('data', (d) => { out += d; });
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30000);
    proc.stdout.on('data', () => {
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${stderr}`)); });
  });
  const exited = new Promise((r) => proc.on('exit', r));
  return {
    url,
    databaseUrl: dbUrl,
    proc,
    stderr: () => stderr,
    /** Everything the server logged (tracing writes to stdout). */
    log: () => out + stderr,
    async stop() { proc.kill('SIGTERM'); await exited; },
    async kill() { proc.kill('SIGKILL'); await exited; },
  };
}

const b64 = (obj) => Buffer.from(typeof obj === 'string' ? obj : JSON.stringify(obj)).toString('base64url');

/** An HS256 JWT (or anything else via `header`/`sign`). */
export function token(sub, role, { name = sub, ttl = 3600, secret = SECRET, header = { alg: 'HS256', typ: 'JWT' }, extra = {} } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub, role, name, iat: now, exp: now + ttl, ...extra };
  const head = `${b64(header)}.${b64(payload)}`;
  if (header.alg === 'none') return `${head}.`;
  return `${head}.${createHmac('sha256', secret).update(head).digest('base64url')}`;
}

export const uid = (p = 'x') => `${p}-${randomUUID().slice(0, 8)}`;

/** The platform says booking `id` is now `status`. Returns `{ status, body }`. */
export async function platform(url, id, status, { customer, worker } = {}) {
  const res = await fetch(`${url}/api/v1/platform/bookings/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${PLATFORM_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customer, worker: status === 'requested' ? null : worker, status }),
  });
  return { status: res.status, body: await res.json() };
}

/** A booking with a fresh customer and worker, brought to `accepted`. */
export async function acceptedBooking(url) {
  const booking = uid('b');
  const customer = { id: uid('c'), name: 'Alice' };
  const worker = { id: uid('w'), name: 'Bob' };
  await platform(url, booking, 'requested', { customer, worker });
  const r = await platform(url, booking, 'accepted', { customer, worker });
  if (r.status !== 200) throw new Error(`accept failed: ${JSON.stringify(r.body)}`);
  return {
    booking, customer, worker, chat: r.body.chat,
    customerToken: token(customer.id, 'customer', { name: customer.name }),
    workerToken: token(worker.id, 'worker', { name: worker.name }),
    move: (status) => platform(url, booking, status, { customer, worker }),
  };
}

/** A connected socket (rejects with the connect_error). */
export function connect(url, tok, opts = {}) {
  const socket = io(url, {
    auth: tok === undefined ? undefined : { token: tok },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    ...opts,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => { socket.close(); reject(err); });
  });
}

/** The connect_error a handshake ends with (fails if it connects). */
export async function refusal(url, tok, opts = {}) {
  try {
    const s = await connect(url, tok, opts);
    s.close();
    throw new Error('connected, but a refusal was expected');
  } catch (err) {
    return err;
  }
}

/** Emit with an acknowledgement; resolves with the ack. */
export function ask(socket, event, payload, timeoutMs = 10000) {
  return socket.timeout(timeoutMs).emitWithAck(event, payload);
}

/** The next `event` whose payload satisfies `pred`. */
export function next(socket, event, pred = () => true, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off(event, on); reject(new Error(`no ${event} within ${timeoutMs} ms`)); }, timeoutMs);
    function on(data) {
      if (!pred(data)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(data);
    }
    socket.on(event, on);
  });
}

/** Collect every `event` payload from now on. */
export function collect(socket, event) {
  const seen = [];
  socket.on(event, (d) => seen.push(d));
  return seen;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Call the REST API. Returns `{ status, body, headers }`. */
export async function rest(url, method, path, tok, body) {
  const headers = {};
  if (tok) headers.authorization = `Bearer ${tok}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${url}/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed;
  try { parsed = JSON.parse(text); } catch { parsed = text; }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const text = (chat_id, body, client_id = randomUUID()) => ({ chat_id, client_id, kind: 'text', body });

/** The whole history of a chat, paged with `after_seq`. */
export async function history(socket, chat_id, after = 0) {
  const out = [];
  for (;;) {
    const page = await ask(socket, 'load_messages', { chat_id, after_seq: after, limit: 100 });
    if (!page.ok) throw new Error(`load_messages: ${JSON.stringify(page.error)}`);
    out.push(...page.messages);
    if (!page.has_more || page.messages.length === 0) return out;
    after = page.messages[page.messages.length - 1].seq;
  }
}

/** Poll `fn` until it returns a truthy value (returned), or fail after `timeoutMs`. */
export async function eventually(fn, what, timeoutMs = 10000, everyMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(everyMs);
  }
}

/** A free loopback TCP port. */
export async function freePort() {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
