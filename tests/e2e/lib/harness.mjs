// Shared fixtures for the browser end-to-end tests: the real omw-chat binary in demo mode on a
// loopback port, the system Chromium driven by playwright-core, and small polling helpers.
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, '../../..');
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
export const BIN = process.env.OMW_BIN ?? join(homedir(), '.cache/omw-chat/target/debug/omw-chat');
export const WEB_DIR = process.env.OMW_WEB_DIR ?? join(ROOT, 'web', 'dist');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Bounded wait used by every poll (ms). */
export const WAIT = Number(process.env.E2E_WAIT_MS ?? 15_000);

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 812 };

/** A free loopback port: bind port 0, read it, close it. */
export function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

/** `omw-chat serve --demo` in a fresh temp directory; resolves once it listens. `webDir`: the built app it serves. */
export async function startServer({ webDir = WEB_DIR } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'omw-e2e-'));
  mkdirSync(join(dir, 'up'));
  let lastError;
  // The port is picked before the server binds it; retry if someone else grabbed it meanwhile.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const origin = [`http://127.0.0.1:${port}`, `http://localhost:${port}`].join(',');
    const proc = spawn(BIN, ['serve', '--demo'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(port),
        SOCKET_CORS_ORIGIN: origin,
        WEB_DIR: webDir,
        DATABASE_URL: `sqlite://${join(dir, `chat-${attempt}.db`)}`,
        UPLOAD_DIR: join(dir, 'up'),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr.on('data', (d) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
      if (process.env.OMW_SERVER_LOG) process.stderr.write(d);
    });
    const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    try {
      const url = await new Promise((res, rej) => {
        let out = '';
        const timer = setTimeout(() => rej(new Error(`server did not start in 30 s: ${stderr}`)), 30_000);
        proc.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/listening on (http:\/\/\S+)/);
          if (m) {
            clearTimeout(timer);
            res(m[1]);
          }
        });
        exited.then(({ code, signal }) => {
          clearTimeout(timer);
          rej(new Error(`server exited (${code ?? signal}): ${stderr}`));
        });
      });
      const serverUrl = url.replace(/\/$/, '');
      const web = await probeWeb(serverUrl);
      return {
        url: serverUrl,
        serverUrl,
        servesWeb: web.ok,
        webProblem: web.reason,
        port,
        dir,
        stderr: () => stderr,
        async stop() {
          if (proc.exitCode === null && proc.signalCode === null) {
            proc.kill('SIGTERM');
            const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
            await exited;
            clearTimeout(t);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastError = err;
      proc.kill('SIGKILL');
      await exited;
      if (!/address already in use|AddrInUse|os error 98/i.test(String(err))) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

/** Does the server itself serve the built web app (`/`, SPA fallback on `/customer`)? */
export async function probeWeb(base) {
  for (const path of ['/', '/customer', '/worker']) {
    const res = await fetch(`${base}${path}`);
    const type = res.headers.get('content-type') ?? '';
    const body = await res.text();
    if (!res.ok || !type.includes('text/html') || !body.includes('<div id="root"'))
      return { ok: false, reason: `GET ${path} → ${res.status} ${type || '(no content-type)'}` };
  }
  return { ok: true, reason: null };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      // Several pages play at once in one browser: keep every one of them running normally.
      '--disable-background-timer-throttling',
      '--disable-backgrounding-occluded-windows',
      '--disable-renderer-backgrounding',
    ],
  });
}

/** JSON call to the demo API. */
export async function demo(base, method, path, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** A fresh accepted demo booking with an active chat; returns `{ booking, chat }`. */
export async function resetDemo(base) {
  const d = await demo(base, 'POST', '/demo/api/reset');
  if (d.booking?.status !== 'accepted' || d.chat?.status !== 'active') throw new Error(`reset gave ${JSON.stringify(d)}`);
  return d;
}

/** Poll `fn` until it returns a truthy value (returned) or `timeout` passes (throws with `what`). */
export async function waitUntil(fn, what, { timeout = WAIT, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastErr;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}` + (lastErr ? ` (last error: ${lastErr.message})` : ` (last value: ${JSON.stringify(last)})`));
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** Wait until `await fn()` equals `expected` (deep equality via JSON). */
export async function waitFor(fn, expected, what, opts) {
  const want = JSON.stringify(expected);
  let got;
  try {
    await waitUntil(async () => JSON.stringify((got = await fn())) === want, what, opts);
  } catch {
    throw new Error(`timed out waiting for ${what}: expected ${want}, last got ${JSON.stringify(got)}`);
  }
}

const tid = (id) => `[data-testid="${id}"]`;
export { tid };

/**
 * One side of the demo: its own browser context (own storage: the SDK's outbox is per origin),
 * on `/customer` or `/worker`. Console errors and page errors are collected.
 */
export async function openParty(browser, base, role, viewport = DESKTOP, { locale, query = '', setup } = {}) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    ...(viewport === PHONE ? { isMobile: true, hasTouch: true } : {}),
    // The browser's language (navigator.languages, Accept-Language): the page's choice when
    // neither `?lang=` nor the token says otherwise.
    ...(locale ? { locale } : {}),
  });
  await context.grantPermissions(['microphone'], { origin: base });
  context.setDefaultTimeout(WAIT);
  if (setup) await setup(context);
  const party = { role, context, base, viewport, query, errors: [], page: null };
  party.page = await openPage(party);
  return party;
}

/** A (new) tab of the party on its page, waiting for the Message button. */
export async function openPage(party) {
  const page = await party.context.newPage();
  page.on('pageerror', (err) => party.errors.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') party.errors.push(`console: ${msg.text()}`);
  });
  await page.goto(`${party.base}/${party.role}${party.query ?? ''}`);
  await page.locator(tid('message-button')).waitFor({ state: 'visible' });
  party.page = page;
  return page;
}

/** Click Message and wait until the chat is joined (the system "chat opened" message shows). */
export async function openChat(party) {
  const { page } = party;
  await page.locator(tid('message-button')).click();
  await page.locator(tid('chat-window')).waitFor({ state: 'visible' });
  await page.locator(`${tid('message-bubble')}[data-kind="system"]`).first().waitFor({ state: 'visible' });
  await waitUntil(() => page.locator(tid('chat-input')).isEnabled(), `${party.role}: chat input enabled`);
}

export const bubbles = (page, text) =>
  text === undefined ? page.locator(tid('message-bubble')) : page.locator(tid('message-bubble'), { hasText: text });

/** Type into the chat input and press Enter. */
export async function sendText(page, text) {
  const input = page.locator(tid('chat-input'));
  await input.fill(text);
  await input.press('Enter');
}

/** Wait for exactly one bubble with `text`; returns its locator. */
export async function expectOneBubble(page, text, what) {
  const loc = bubbles(page, text);
  await waitFor(() => loc.count(), 1, what ?? `one bubble "${text}"`);
  return loc;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, name), animations: 'disabled', caret: 'hide' });
}

/** Errors the pages logged that a test should fail on (network errors while offline are expected). */
export function unexpectedErrors(party, allow = []) {
  return party.errors.filter((e) => !allow.some((re) => re.test(e)));
}

export const FAILURES = join(tmpdir(), 'omw-e2e-failures');

/**
 * Per-file fixture: one server and one browser for the file (`before`/`after`), and per test a
 * fresh demo booking plus the parties it opened, closed afterwards. On a failure every open page
 * is screenshotted to $TMPDIR/omw-e2e-failures and the server's log tail is attached to the error.
 */
export function fixture() {
  const f = {
    server: null,
    browser: null,
    parties: [],
    async setup() {
      f.server = await startServer();
      f.browser = await launchBrowser();
    },
    async teardown() {
      await f.browser?.close().catch(() => {});
      await f.server?.stop();
    },
    /** Open a party and remember it for cleanup (`opts`: `locale`, `query`, `setup(context)`). */
    async party(role, viewport = DESKTOP, opts) {
      const p = await openParty(f.browser, f.server.url, role, viewport, opts);
      f.parties.push(p);
      return p;
    },
    /** Wrap a test body: fresh booking before, cleanup and diagnostics after. */
    scenario(name, body) {
      return async (t) => {
        await resetDemo(f.server.url);
        try {
          await body(t);
        } catch (err) {
          mkdirSync(FAILURES, { recursive: true });
          const slug = name.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
          const shots = [];
          for (const p of f.parties) {
            for (const [i, page] of p.context.pages().entries()) {
              const file = join(FAILURES, `${slug}-${p.role}-${p.viewport.width}-${i}.png`);
              await page.screenshot({ path: file }).then(() => shots.push(file), () => {});
            }
          }
          const errors = f.parties.flatMap((p) => p.errors.map((e) => `${p.role}: ${e}`));
          err.message +=
            `\n  screenshots: ${shots.join(', ') || '(none)'}` +
            (errors.length ? `\n  page errors:\n    ${errors.slice(-20).join('\n    ')}` : '') +
            `\n  server log tail:\n${f.server.stderr().slice(-3000)}`;
          throw err;
        } finally {
          for (const p of f.parties.splice(0)) await p.context.close().catch(() => {});
        }
      };
    },
  };
  return f;
}

/** Fail on uncaught page exceptions and console errors, except those matching `allow`. */
export function assertNoPageErrors(parties, allow = []) {
  const errs = parties.flatMap((p) => unexpectedErrors(p, allow).map((e) => `${p.role}: ${e}`));
  if (errs.length) throw new Error(`errors in the pages:\n  ${errs.join('\n  ')}`);
}

/** The page does not scroll sideways (nothing overflows the viewport horizontally). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const over = [];
    if (doc.scrollWidth > window.innerWidth) over.push(`document ${doc.scrollWidth} > ${window.innerWidth}`);
    for (const el of document.querySelectorAll('[data-testid]')) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5)) over.push(`${el.getAttribute('data-testid')} [${Math.round(r.left)}, ${Math.round(r.right)}]`);
    }
    return over;
  });
}
