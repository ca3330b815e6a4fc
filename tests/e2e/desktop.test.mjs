// The whole demo in a desktop browser (1280×800): the customer's ServiceTracking and the worker's
// WorkerJobTracking in two separate browser contexts against one `omw-chat serve --demo`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  assertNoPageErrors,
  bubbles,
  expectOneBubble,
  fixture,
  openChat,
  openPage,
  probeWeb,
  screenshot,
  sendText,
  tid,
  waitFor,
  waitUntil,
  WEB_DIR,
} from './lib/harness.mjs';
import { makePng } from './lib/media.mjs';

const f = fixture();
// Network errors while a context is deliberately offline, and media the browser aborts on close.
const OFFLINE_NOISE = [/ERR_INTERNET_DISCONNECTED/, /ERR_NETWORK_CHANGED/, /Failed to load resource/];

describe('desktop', () => {
  before(() => f.setup());
  after(() => f.teardown());

  test(
    'the server serves the built web app at / with the SPA fallback for /customer and /worker',
    f.scenario('web app served', async () => {
      const web = await probeWeb(f.server.serverUrl);
      assert.ok(web.ok, `omw-chat serve --demo with WEB_DIR=${WEB_DIR} does not serve the web app: ${web.reason}`);
    }),
  );

  test(
    'start page links open the customer and the worker views',
    f.scenario('start page', async () => {
      const c = await f.party('customer');
      const { page } = c;
      await page.goto(`${f.server.url}/`);
      await page.locator(tid('open-customer')).click();
      await page.waitForURL(/\/customer$/);
      await page.locator(tid('message-button')).waitFor();
      await page.goto(`${f.server.url}/`);
      await page.locator(tid('open-worker')).click();
      await page.waitForURL(/\/worker$/);
      await page.locator(tid('action-en_route')).waitFor();
      assertNoPageErrors([c]);
    }),
  );

  test(
    'both sides open the chat from the Message button',
    f.scenario('open chats', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await waitFor(() => c.page.locator(tid('booking-status')).textContent(), 'Accepted', 'customer booking status');
      await waitFor(() => w.page.locator(tid('booking-status')).textContent(), 'Accepted', 'worker booking status');
      await screenshot(c.page, 'customer-desktop.png');
      await screenshot(w.page, 'worker-desktop.png');
      await openChat(c);
      await openChat(w);
      for (const p of [c, w]) {
        // A dialog, not full screen, on a desktop.
        const box = await p.page.locator(`${tid('chat-dialog')} .MuiDialog-paper`).boundingBox();
        assert.ok(box.width < 1280 && box.height < 800, `${p.role}: dialog is ${box.width}×${box.height}`);
        const header = await p.page.locator(tid('chat-window')).locator('h2').first().textContent();
        assert.match(header, p.role === 'customer' ? /Bob Worker/ : /Alice Customer/);
      }
      await waitFor(() => c.page.locator(tid('online-status')).textContent(), 'Online', 'customer sees the worker online');
      await waitFor(() => w.page.locator(tid('online-status')).textContent(), 'Online', 'worker sees the customer online');
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    'text both ways, typing indicator, unread badge and read ticks',
    f.scenario('text typing read', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);

      // The customer writes while the worker has not opened the chat: sent, not read; unread badge.
      const first = 'Hi Bob, the gate code is 4711.';
      await sendText(c.page, first);
      const mine = bubbles(c.page, first);
      await waitFor(() => mine.getAttribute('data-status'), 'sent', 'customer message acknowledged (sent)');
      await waitFor(() => w.page.locator(tid('message-button')).getAttribute('data-unread'), '1', 'worker unread count 1');
      await w.page.locator(tid('unread-badge')).waitFor({ state: 'visible' });
      assert.equal(await mine.getAttribute('data-status'), 'sent', 'not read before the worker opens the chat');

      // The worker opens the chat: the message is there once, and the customer's tick turns to read.
      await openChat(w);
      const theirs = await expectOneBubble(w.page, first, 'worker sees the customer message');
      assert.equal(await theirs.getAttribute('data-own'), 'false');
      assert.equal(await theirs.getAttribute('data-kind'), 'text');
      await waitFor(() => mine.getAttribute('data-status'), 'read', 'customer message read');
      await waitFor(() => w.page.locator(tid('message-button')).getAttribute('data-unread'), '0', 'worker unread back to 0');

      // Typing shows on the other side and goes away when the message is sent.
      await c.page.locator(tid('chat-input')).pressSequentially('Are you', { delay: 30 });
      await w.page.locator(tid('typing-indicator')).waitFor({ state: 'visible' });
      assert.match(await w.page.locator(tid('typing-indicator')).textContent(), /Alice Customer is typing/);
      await c.page.locator(tid('chat-input')).pressSequentially(' close?', { delay: 10 });
      await c.page.locator(tid('send-button')).click();
      await expectOneBubble(w.page, 'Are you close?');
      await w.page.locator(tid('typing-indicator')).waitFor({ state: 'hidden' });

      await w.page.locator(tid('chat-input')).pressSequentially('On it', { delay: 30 });
      await c.page.locator(tid('typing-indicator')).waitFor({ state: 'visible' });
      assert.match(await c.page.locator(tid('typing-indicator')).textContent(), /Bob Worker is typing/);
      await w.page.locator(tid('chat-input')).pressSequentially(' — about 10 minutes away.', { delay: 5 });
      await w.page.locator(tid('chat-input')).press('Enter');
      const reply = await expectOneBubble(c.page, 'On it — about 10 minutes away.', 'customer sees the reply live');
      assert.equal(await reply.getAttribute('data-own'), 'false');
      await c.page.locator(tid('typing-indicator')).waitFor({ state: 'hidden' });
      // Both chats open: the worker's reply is read at once.
      await waitFor(() => bubbles(w.page, 'On it').getAttribute('data-status'), 'read', 'worker reply read');

      // Sequence numbers agree on both sides and have no gaps.
      const seqs = async (p) => (await bubbles(p.page).evaluateAll((els) => els.map((e) => Number(e.dataset.seq))));
      const cs = await seqs(c);
      assert.deepEqual(cs, await seqs(w));
      assert.deepEqual(cs, cs.map((_, i) => cs[0] + i));
      assert.equal(await c.page.locator(tid('chat-input')).inputValue(), '', 'input cleared after send');

      await screenshot(c.page, 'customer-chat-desktop.png');
      await screenshot(w.page, 'worker-chat-desktop.png');
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    'a photo from the customer shows as an image preview on the worker side',
    f.scenario('photo', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);
      await openChat(w);
      const dir = mkdtempSync(join(tmpdir(), 'omw-e2e-img-'));
      try {
        const file = join(dir, 'leaking-pipe.png');
        writeFileSync(file, makePng(160, 120));
        await c.page.locator(tid('file-input')).setInputFiles(file);
        for (const p of [w, c]) {
          const bubble = p.page.locator(`${tid('message-bubble')}[data-kind="image"]`);
          await waitFor(() => bubble.count(), 1, `${p.role}: one image bubble`);
          const img = bubble.locator('img');
          await img.waitFor({ state: 'visible' });
          const size = await waitUntil(
            () => img.evaluate((el) => el.complete && el.naturalWidth > 0 && { w: el.naturalWidth, h: el.naturalHeight, src: el.src }),
            `${p.role}: image loaded`,
          );
          assert.match(size.src, /^blob:/, 'media is loaded with the token and shown from an object URL');
          assert.ok(size.w > 0 && size.h > 0);
        }
        await waitFor(() => c.page.locator(`${tid('message-bubble')}[data-kind="image"]`).getAttribute('data-status'), 'read', 'photo read');
        // The full image opens in a viewer.
        await w.page.locator(`${tid('message-bubble')}[data-kind="image"] button`).click();
        const full = w.page.getByRole('dialog', { name: /Image leaking-pipe\.png/ }).locator('img');
        await waitUntil(() => full.evaluate((el) => el.complete && el.naturalWidth === 160), 'worker: full image 160 px wide');
        await w.page.keyboard.press('Escape');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    "a voice note recorded by the worker plays on the customer's side",
    f.scenario('voice note', async (t) => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);
      await openChat(w);
      await w.page.locator(tid('record-button')).click();
      const timer = w.page.locator(tid('recording-timer'));
      await timer.waitFor({ state: 'visible' });
      // Record about two seconds of Chromium's fake microphone (a beep).
      await waitUntil(async () => /0:0[2-9]/.test(await timer.textContent()), 'recording timer at 0:02', { interval: 100 });
      await w.page.locator(tid('record-stop')).click();
      await timer.waitFor({ state: 'hidden' });

      const ownBubble = w.page.locator(`${tid('message-bubble')}[data-kind="audio"]`);
      const inputError = w.page.locator(tid('input-error'));
      // Either the voice note is sent, or the upload is refused (e.g. 415 for the recorder's format).
      await waitUntil(async () => (await ownBubble.count()) === 1 || (await inputError.count()) > 0, 'worker: voice note sent or refused');
      if ((await inputError.count()) > 0) {
        const rec = await w.page.evaluate(() => ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm'].filter((t) => MediaRecorder.isTypeSupported(t)));
        assert.fail(`the voice note upload was refused: "${await inputError.textContent()}" (MediaRecorder supports ${rec.join(', ')})`);
      }
      await waitUntil(async () => ['sent', 'read'].includes(await ownBubble.getAttribute('data-status')), 'worker: voice note acknowledged');

      const bubble = c.page.locator(`${tid('message-bubble')}[data-kind="audio"]`);
      await waitFor(() => bubble.count(), 1, 'customer: one audio bubble');
      const audio = bubble.locator('audio');
      await audio.waitFor({ state: 'attached' });
      const meta = await waitUntil(
        () => audio.evaluate((el) => el.readyState >= 1 && { readyState: el.readyState, duration: String(el.duration), src: el.src, error: el.error?.code ?? null }),
        'customer: audio metadata loaded',
      );
      const attachment = await w.page.evaluate(async (base) => {
        const { token } = await (await fetch(`${base}/demo/api/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"role":"worker"}' })).json();
        const { chat } = await (await fetch(`${base}/demo/api/booking`)).json();
        const r = await fetch(`${base}/api/v1/chats/${chat.id}/messages?limit=10`, { headers: { authorization: `Bearer ${token}` } });
        return (await r.json()).messages.find((m) => m.kind === 'audio')?.attachment;
      }, f.server.url);
      t.diagnostic(`voice note: ${JSON.stringify({ mime: attachment?.mime, size: attachment?.size, duration_ms: attachment?.duration_ms, element: meta })}`);
      assert.match(attachment.mime, /^audio\//);
      // The recorded length travels with the upload (MediaRecorder's WebM does not carry one, so
      // the <audio> element alone reports duration = Infinity) and shows next to the player.
      assert.ok(attachment.duration_ms >= 1500 && attachment.duration_ms <= 15_000, `duration_ms ${attachment.duration_ms}`);
      await bubble.getByText(/^0:0[2-9]$/).waitFor({ state: 'visible' });
      assert.match(meta.src, /^blob:/);
      assert.equal(meta.error, null);
      assert.ok(Number(meta.duration) > 0, `duration ${meta.duration}`);
      // It plays: muted playback advances the clock.
      await audio.evaluate((el) => {
        el.muted = true;
        return el.play();
      });
      await waitUntil(() => audio.evaluate((el) => el.currentTime > 0.2 || el.ended), 'customer: voice note playing');
      assert.equal(await audio.evaluate((el) => el.error?.code ?? null), null);
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    'presence: the worker goes offline and comes back',
    f.scenario('presence', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);
      const status = c.page.locator(tid('online-status'));
      await waitFor(() => status.textContent(), 'Online', 'worker online');

      // The worker's tab closes: offline, last seen.
      await w.page.close();
      await waitUntil(async () => /^(Last seen|Offline)/.test(await status.textContent()), 'worker offline after closing the tab');
      assert.match(await status.textContent(), /^Last seen just now$/);
      // The page behind the dialog agrees.
      assert.match(await c.page.locator(tid('provider-card')).textContent(), /Last seen just now/);

      // Back in a new tab: online again.
      await openPage(w);
      await waitFor(() => status.textContent(), 'Online', 'worker online again');

      // The worker's network drops (the context goes offline): offline; back: online.
      await w.context.setOffline(true);
      await waitUntil(async () => /^(Last seen|Offline)/.test(await status.textContent()), 'worker offline after the network drops');
      await w.context.setOffline(false);
      await waitFor(() => status.textContent(), 'Online', 'worker online after the network is back');
      assertNoPageErrors([c], OFFLINE_NOISE);
      assertNoPageErrors([w], [...OFFLINE_NOISE, /WebSocket connection to .* failed/]);
    }),
  );

  test(
    'network cut: messages written offline go out once when the network is back',
    f.scenario('network cut', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);
      await openChat(w);
      await sendText(c.page, 'before the tunnel');
      await expectOneBubble(w.page, 'before the tunnel');

      await c.context.setOffline(true);
      await sendText(c.page, 'offline one');
      await sendText(c.page, 'offline two');
      for (const text of ['offline one', 'offline two']) {
        const b = await expectOneBubble(c.page, text, `customer shows "${text}"`);
        assert.equal(await b.getAttribute('data-status'), 'sending', `"${text}" is pending while offline`);
      }
      assert.equal(await bubbles(w.page, 'offline one').count(), 0);

      await c.context.setOffline(false);
      for (const text of ['offline one', 'offline two']) {
        await expectOneBubble(w.page, text, `worker gets "${text}" once`);
        await waitUntil(async () => ['sent', 'read'].includes(await bubbles(c.page, text).getAttribute('data-status')), `customer "${text}" acknowledged`);
      }
      // In order, and still exactly once after the customer has caught up.
      const order = await bubbles(w.page).evaluateAll((els) => els.map((e) => e.textContent));
      const i1 = order.findIndex((t) => t.includes('offline one'));
      const i2 = order.findIndex((t) => t.includes('offline two'));
      assert.ok(i1 >= 0 && i1 < i2, 'offline messages in the order written');
      await waitFor(() => bubbles(c.page, 'offline two').getAttribute('data-status'), 'read', 'offline messages read by the worker');
      for (const text of ['offline one', 'offline two']) {
        assert.equal(await bubbles(w.page, text).count(), 1, `worker: "${text}" exactly once`);
        assert.equal(await bubbles(c.page, text).count(), 1, `customer: "${text}" exactly once`);
      }
      // The stored history agrees: a fresh worker tab loads each exactly once.
      await w.page.close();
      await openPage(w);
      await openChat(w);
      await expectOneBubble(w.page, 'offline two', 'worker history');
      assert.equal(await bubbles(w.page, 'offline one').count(), 1);
      assertNoPageErrors([w]);
      assertNoPageErrors([c], [...OFFLINE_NOISE, /WebSocket connection to .* failed/]);
    }),
  );

  test(
    'lifecycle: On my way shows a system message; Complete closes both chats',
    f.scenario('lifecycle', async () => {
      const c = await f.party('customer');
      const w = await f.party('worker');
      await openChat(c);
      await sendText(c.page, 'See you soon');
      await expectOneBubble(c.page, 'See you soon');

      await w.page.locator(tid('action-en_route')).click();
      await expectOneBubble(c.page, 'is on the way', 'customer sees the on-the-way system message');
      assert.equal(await bubbles(c.page, 'is on the way').getAttribute('data-kind'), 'system');
      await waitFor(() => c.page.locator(tid('booking-status')).textContent(), 'On the way', 'customer booking status');
      await waitFor(() => w.page.locator(tid('booking-status')).textContent(), 'On the way', 'worker booking status');

      await openChat(w);
      await expectOneBubble(w.page, 'is on the way');
      await w.page.locator(tid('chat-close')).click();
      await w.page.locator(tid('chat-window')).waitFor({ state: 'hidden' });
      await w.page.locator(tid('action-in_progress')).click();
      await expectOneBubble(c.page, 'Service started', 'customer sees service started');
      await w.page.locator(tid('action-completed')).click();
      await waitFor(() => w.page.locator(tid('booking-status')).textContent(), 'Completed', 'worker booking status');

      // The customer's open chat closes in place.
      await c.page.locator(tid('chat-closed-notice')).waitFor({ state: 'visible' });
      assert.match(await c.page.locator(tid('chat-closed-notice')).textContent(), /completed/);
      assert.ok(await c.page.locator(tid('chat-input')).isDisabled(), 'customer input disabled');
      assert.equal(await c.page.locator(tid('send-button')).count(), 0);
      assert.equal(await c.page.locator(tid('attach-button')).count(), 0);
      await waitFor(() => c.page.locator(tid('booking-status')).textContent(), 'Completed', 'customer booking status');
      await screenshot(c.page, 'chat-closed.png');

      // The worker opens the chat again: closed too.
      await w.page.locator(tid('message-button')).click();
      await w.page.locator(tid('chat-closed-notice')).waitFor({ state: 'visible' });
      assert.ok(await w.page.locator(tid('chat-input')).isDisabled(), 'worker input disabled');
      assert.equal(await w.page.locator(tid('record-button')).count(), 0);
      assertNoPageErrors([c, w]);
    }),
  );
});
