// The two npm packages as a platform's front end gets them: build @omw-chat/client and
// @omw-chat/react, `npm pack` them, install the tarballs with React, MUI, Emotion and
// socket.io-client from the registry into a fresh Vite + React app made here in a temporary
// folder outside the repository, type-check it against the shipped declarations, `vite build`
// it, serve it with `omw-chat serve --demo` (WEB_DIR = the app's dist; the demo endpoints mint
// the tokens), and in Chromium chat both ways between the customer's and the worker's
// `ChatWindow`, each in its own browser context.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, expectOneBubble, launchBrowser, resetDemo, sendText, startServer, tid, waitUntil } from '../e2e/lib/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = realpathSync(join(HERE, '../..'));
const WEB = join(ROOT, 'web');
const APP_TEMPLATE = join(HERE, 'app');

// The consumer's other dependencies, pinned to the versions the workspace was tested with (so
// a warm npm cache serves them); the registry's ranges when the workspace is not installed.
const REGISTRY_DEPS = ['react', 'react-dom', '@mui/material', '@emotion/react', '@emotion/styled', 'socket.io-client'];
const REGISTRY_DEV_DEPS = ['vite', '@vitejs/plugin-react', 'typescript', '@types/react', '@types/react-dom'];

function pinned(names) {
  const web = JSON.parse(readFileSync(join(WEB, 'package.json'), 'utf8'));
  const ranges = { ...web.dependencies, ...web.devDependencies };
  return Object.fromEntries(
    names.map((name) => {
      const installed = join(WEB, 'node_modules', name, 'package.json');
      const version = existsSync(installed) ? JSON.parse(readFileSync(installed, 'utf8')).version : ranges[name];
      assert.ok(version, `no version for ${name}`);
      return [name, version];
    }),
  );
}

// npm's own variables (set when this runs under `npm run`/`npm ci --prefix`) must not leak into
// the npm calls made here: they would point them at the repository.
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function run(cmd, args, cwd) {
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const line = `${cmd} ${args.join(' ')}  (in ${cwd === ROOT || cwd.startsWith(ROOT + sep) ? cwd.slice(ROOT.length + 1) || '.' : cwd})`;
  if (r.status !== 0) throw new Error(`${line} failed (${r.status ?? r.signal}) after ${secs} s:\n${r.stdout}\n${r.stderr}`);
  console.log(`  ${secs.padStart(5)} s  ${line}`);
  return r.stdout;
}

describe('@omw-chat/client and @omw-chat/react as packed tarballs in a fresh Vite + React app', () => {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'omw-packages-'));
  const app = join(tmp, 'app');
  const tarballs = {};
  let server;
  let browser;

  before(() => {
    assert.ok(!realpathSync(tmp).startsWith(ROOT + sep), `the app must live outside the repository, not in ${tmp}`);
  });

  after(async () => {
    const t0 = Date.now();
    await browser?.close().catch(() => {});
    await server?.stop();
    if (process.env.OMW_KEEP_TMP) console.log(`  kept ${tmp}`);
    // The app's node_modules is tens of thousands of files: removing them takes half a minute
    // on a busy machine and decides nothing, so `rm` does it after the test has reported.
    else spawn('rm', ['-rf', tmp], { detached: true, stdio: 'ignore' }).unref();
    console.log(`  ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  browser and server stopped`);
    console.log(`  package test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  test('web/README.md shows the integration this app runs (app/BookingChat.tsx), in at most 20 lines', () => {
    const readme = readFileSync(join(WEB, 'README.md'), 'utf8');
    const block = readme.match(/<!-- integration: tests\/packages\/app\/BookingChat\.tsx -->\s*```tsx\n([\s\S]*?)```/);
    assert.ok(block, 'web/README.md has no integration block');
    assert.equal(block[1], readFileSync(join(APP_TEMPLATE, 'BookingChat.tsx'), 'utf8'));
    assert.ok(block[1].trimEnd().split('\n').length <= 20, 'the integration is longer than 20 lines');
  });

  test('both packages build and pack: ES module, declarations, no sources or tests', () => {
    run('npm', ['run', '--silent', 'build:packages'], WEB);
    const out = run('npm', ['pack', '--json', '--pack-destination', tmp, '-w', '@omw-chat/client', '-w', '@omw-chat/react'], WEB);
    for (const p of JSON.parse(out)) {
      const files = p.files.map((f) => f.path);
      for (const want of ['package.json', 'dist/index.js', 'dist/index.d.ts']) assert.ok(files.includes(want), `${p.name}: ${want} missing from ${files}`);
      const stray = files.filter((f) => f.startsWith('src/') || /\.test\./.test(f));
      assert.deepEqual(stray, [], `${p.name} ships sources or tests`);
      tarballs[p.name] = join(tmp, p.filename);
    }
    assert.deepEqual(Object.keys(tarballs).sort(), ['@omw-chat/client', '@omw-chat/react']);
  });

  test('a fresh app installs the tarballs and the peers from the registry, type-checks and builds', () => {
    mkdirSync(join(app, 'src'), { recursive: true });
    for (const f of ['index.html', 'tsconfig.json', 'tsconfig.nodenext.json', 'vite.config.ts']) cpSync(join(APP_TEMPLATE, f), join(app, f));
    for (const f of ['main.tsx', 'BookingChat.tsx', 'types-nodenext.ts']) cpSync(join(APP_TEMPLATE, f), join(app, 'src', f));
    const pkg = {
      name: 'omw-chat-consumer',
      private: true,
      type: 'module',
      dependencies: {
        '@omw-chat/client': `file:${tarballs['@omw-chat/client']}`,
        '@omw-chat/react': `file:${tarballs['@omw-chat/react']}`,
        ...pinned(REGISTRY_DEPS),
      },
      devDependencies: pinned(REGISTRY_DEV_DEPS),
    };
    writeFileSync(join(app, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app);
    for (const name of ['@omw-chat/client', '@omw-chat/react']) {
      const dir = join(app, 'node_modules', name);
      assert.ok(!lstatSync(dir).isSymbolicLink(), `${name} is a link, not the installed tarball`);
      assert.ok(existsSync(join(dir, 'dist', 'index.d.ts')), `${name}: no declarations installed`);
    }
    // One copy of each peer: a second React or MUI would break hooks and theming.
    const ls = JSON.parse(run('npm', ['ls', '--all', '--json', 'react', '@mui/material', 'socket.io-client'], app));
    const versions = new Map();
    const walk = (deps = {}) => {
      for (const [name, d] of Object.entries(deps)) {
        if (!versions.has(name)) versions.set(name, new Set());
        versions.get(name).add(d.version);
        walk(d.dependencies);
      }
    };
    walk(ls.dependencies);
    for (const name of ['react', '@mui/material', 'socket.io-client']) assert.equal(versions.get(name)?.size, 1, `${name}: ${[...(versions.get(name) ?? [])]}`);
    // The app as Vite's template sets it up (bundler resolution), and the declarations as a
    // Node16/NodeNext project reads them (relative imports need their `.js`).
    run('npx', ['--no-install', 'tsc', '--noEmit', '-p', '.'], app);
    run('npx', ['--no-install', 'tsc', '--noEmit', '-p', 'tsconfig.nodenext.json'], app);
    run('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn'], app);
    assert.ok(existsSync(join(app, 'dist', 'index.html')));
  });

  test('ChatWindow from the packages: the customer and the worker exchange a message in Chromium', async () => {
    const t0 = Date.now();
    server = await startServer({ webDir: join(app, 'dist') });
    await resetDemo(server.url);
    browser = await launchBrowser();
    const errors = [];
    const pages = {};
    const open = async (role) => {
      const context = await browser.newContext({ viewport: DESKTOP });
      context.setDefaultTimeout(15_000);
      const page = await context.newPage();
      pages[role] = page;
      page.on('pageerror', (err) => errors.push(`${role}: pageerror: ${err.message}`));
      page.on('console', (msg) => msg.type() === 'error' && errors.push(`${role}: console: ${msg.text()}`));
      await page.goto(`${server.url}/?role=${role}`);
      await page.getByRole('button', { name: 'Message' }).click();
      await page.locator(tid('chat-window')).waitFor({ state: 'visible' });
      await page.locator(`${tid('message-bubble')}[data-kind="system"]`).first().waitFor({ state: 'visible' });
      await waitUntil(() => page.locator(tid('chat-input')).isEnabled(), `${role}: chat input enabled`);
      return page;
    };
    // Both pages as the user saw them, at the end or at a failure: ${TMPDIR}/omw-packages-<role>.png
    const shoot = async () => {
      for (const [role, page] of Object.entries(pages)) {
        const file = join(tmpdir(), `omw-packages-${role}.png`);
        await page.screenshot({ path: file }).then(() => console.log(`  screenshot: ${file}`), () => {});
      }
    };
    try {
      const customer = await open('customer');
      const worker = await open('worker');
      // The header names the other side (the demo's seeded users).
      await customer.locator(tid('chat-window'), { hasText: 'Bob Worker' }).waitFor();
      await worker.locator(tid('chat-window'), { hasText: 'Alice Customer' }).waitFor();

      await sendText(customer, 'Hello from the packaged client');
      await expectOneBubble(worker, 'Hello from the packaged client', 'the worker sees the customer’s message');
      await sendText(worker, 'On it, see you at 3');
      await expectOneBubble(customer, 'On it, see you at 3', 'the customer sees the worker’s reply');
      // Each side's own message is confirmed by the server (a tick, not "sending").
      for (const [page, text] of [[customer, 'Hello from the packaged client'], [worker, 'On it, see you at 3']]) {
        await waitUntil(async () => ['sent', 'read'].includes(await page.locator(tid('message-bubble'), { hasText: text }).getAttribute('data-status')), `"${text}" acknowledged`);
      }
      assert.deepEqual(errors, [], 'errors in the pages');
      await shoot();
    } catch (err) {
      await shoot();
      err.message += `\n  page errors: ${errors.join('\n    ') || '(none)'}\n  server log tail:\n${server.stderr().slice(-3000)}`;
      throw err;
    }
    console.log(`  ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s  server + Chromium, two contexts, a message each way`);
  });
});
