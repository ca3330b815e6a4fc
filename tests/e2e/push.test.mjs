// Web push notifications (SPEC §9.2) in the browser: the focus report, the opt-in in the chat
// (desktop and phone width), the subscription stored on the server, and the service worker's
// notifications. No push service is reachable here, so PushManager hands out a made-up
// subscription (real-looking keys) and the pushes are delivered to the service worker through CDP.
import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, assertNoPageErrors, demo, fixture, openChat, screenshot, tid, waitFor, waitUntil } from './lib/harness.mjs';

const f = fixture();

/** What a push service would hand out: a P-256 public key (65 bytes, uncompressed) and a 16-byte secret. */
function madeUpSubscription() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return {
    endpoint: `https://push.example.com/send/${randomBytes(12).toString('base64url')}`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
  };
}

/** In every page of the context, PushManager subscribes to `sub` instead of asking a push service. */
function stubPushManager(context, sub) {
  return context.addInitScript((sub) => {
    let current = null;
    PushManager.prototype.subscribe = async function (options) {
      const applicationServerKey = new Uint8Array(options.applicationServerKey).buffer;
      window.__pushKeyLength = applicationServerKey.byteLength;
      current = {
        endpoint: sub.endpoint,
        expirationTime: null,
        options: { userVisibleOnly: options.userVisibleOnly, applicationServerKey },
        toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
        unsubscribe: async () => ((current = null), true),
      };
      return current;
    };
    PushManager.prototype.getSubscription = async function () {
      return current;
    };
  }, sub);
}

/** The shown notifications tagged with the chat id, as the page's service worker registration lists them. */
function notifications(page, chatId) {
  return page.evaluate(async (tag) => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications({ tag })).map((n) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
  }, chatId);
}

describe('push notifications', () => {
  before(() => f.setup());
  after(() => f.teardown());

  test(
    'focus reported; opt-in in the chat, subscription stored, one notification per chat, a click opens the chat',
    f.scenario('push', async () => {
      const { chat } = await demo(f.server.url, 'GET', '/demo/api/booking');
      const sub = madeUpSubscription();
      const frames = { sent: [], received: [] };
      const c = await f.party('customer', DESKTOP, {
        setup: async (context) => {
          await context.grantPermissions(['notifications'], { origin: f.server.url });
          await stubPushManager(context, sub);
          context.on('page', (p) =>
            p.on('websocket', (ws) => {
              ws.on('framesent', (frame) => frames.sent.push(String(frame.payload)));
              ws.on('framereceived', (frame) => frames.received.push(String(frame.payload)));
            }),
          );
        },
      });
      const { page } = c;

      // The page is in front of its user: the socket says so, and the server takes it.
      const report = await waitUntil(() => frames.sent.find((p) => /^42\d+\["presence",\{"focused":true\}\]$/.test(p)), 'presence { focused: true } sent');
      const ackId = report.match(/^42(\d+)/)[1];
      await waitUntil(() => frames.received.includes(`43${ackId}[{"ok":true}]`), 'presence acknowledged');

      await openChat(c);

      // Offered in the chat, not asked for on load.
      const prompt = page.locator(tid('push-prompt'));
      await waitFor(() => prompt.getAttribute('data-notice'), 'offer', 'the offer to turn notifications on');
      assert.equal(await page.locator(tid('push-toggle')).getAttribute('data-state'), 'off');
      await screenshot(page, 'push-prompt-desktop.png');
      await page.setViewportSize(PHONE);
      await screenshot(page, 'push-prompt-phone.png');

      const stored = page.waitForResponse((r) => r.url().endsWith('/api/v1/push/subscriptions') && r.request().method() === 'POST');
      await page.locator(tid('push-enable')).click();
      const res = await stored;
      assert.deepEqual(JSON.parse(res.request().postData()), sub, 'the browser subscription as posted');
      assert.match(res.request().headers().authorization ?? '', /^Bearer \S+$/, 'the chat token');
      assert.equal(res.status(), 201, `POST /api/v1/push/subscriptions → ${res.status()} ${await res.text().catch(() => '')}`);
      assert.equal(await page.evaluate(() => window.__pushKeyLength), 65, 'subscribed with the server VAPID key (a P-256 point)');
      await waitFor(() => prompt.getAttribute('data-notice'), 'enabled', 'notifications on');
      assert.equal(await page.locator(tid('push-toggle')).getAttribute('data-state'), 'on');
      await screenshot(page, 'push-on-phone.png');
      await page.setViewportSize(DESKTOP);
      await screenshot(page, 'push-on-desktop.png');
      await page.locator(tid('chat-close')).click();
      await page.locator(tid('chat-window')).waitFor({ state: 'hidden' });

      // Pushes go straight to the service worker.
      const cdp = await c.context.newCDPSession(page);
      const scopes = new Map();
      cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
        for (const r of registrations) if (!r.isDeleted) scopes.set(r.scopeURL, r.registrationId);
      });
      await cdp.send('ServiceWorker.enable');
      const registrationId = await waitUntil(() => scopes.get(`${f.server.url}/`), 'the service worker registration');
      const push = (payload) => cdp.send('ServiceWorker.deliverPushMessage', { origin: f.server.url, registrationId, data: JSON.stringify(payload) });

      await push({ type: 'message', chat_id: chat.id, seq: 1 });
      await waitFor(async () => (await notifications(page, chat.id)).length, 1, 'a notification for the chat');
      assert.deepEqual(await notifications(page, chat.id), [
        { title: 'OMW', body: 'New message', tag: chat.id, data: { chat_id: chat.id, seq: 1, url: `/customer?chat=${chat.id}` } },
      ]);
      await push({ type: 'message', chat_id: chat.id, seq: 2 });
      await waitFor(async () => (await notifications(page, chat.id)).map((n) => n.data.seq), [2], 'still one notification for the chat, now for seq 2');

      // The reader's language, as the page told the worker.
      await page.locator(tid('language-switcher')).selectOption('de');
      await waitUntil(
        () => page.evaluate(async () => (await (await caches.open('omw-chat-sw')).match('/omw-chat-sw/settings'))?.json().then((s) => s.locale === 'de')),
        'the worker told the language',
      );
      await push({ type: 'message', chat_id: chat.id, seq: 3 });
      await waitFor(async () => (await notifications(page, chat.id)).map((n) => [n.body, n.data.seq]), [['Neue Nachricht', 3]], 'the notification in German');

      // A click on the notification opens its chat in the open page.
      await page.evaluate(async (tag) => (await navigator.serviceWorker.ready).active.postMessage({ type: 'test:click', tag }), chat.id);
      await page.locator(tid('chat-window')).waitFor({ state: 'visible' });
      assert.equal(new URL(page.url()).searchParams.get('chat'), chat.id);
      await waitFor(async () => (await notifications(page, chat.id)).length, 0, 'the clicked notification closed');

      // Turned off from the header's bell.
      const removed = page.waitForResponse((r) => r.url().endsWith('/api/v1/push/subscriptions') && r.request().method() === 'DELETE');
      await page.locator(tid('push-toggle')).click();
      const del = await removed;
      assert.deepEqual(JSON.parse(del.request().postData()), { endpoint: sub.endpoint });
      assert.equal(del.status(), 204);
      await waitFor(() => page.locator(tid('push-toggle')).getAttribute('data-state'), 'off', 'notifications off');
      assertNoPageErrors([c]);
    }),
  );
});
