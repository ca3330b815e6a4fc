// Web push notifications (SPEC §9.2) in the browser: the focus report, the opt-in in the chat
// (desktop and phone width), the subscription stored on the server, and the service worker's
// notifications, also with the other demo page open in the same browser. No push service is reachable here, so PushManager hands out a made-up
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

/**
 * In every page of the context, PushManager subscribes to `sub` instead of asking a push service.
 * The subscription is the browser's, as a real one: kept in localStorage, so every tab sees it.
 */
function stubPushManager(context, sub) {
  return context.addInitScript((sub) => {
    const KEY = '__e2e_push_subscription';
    const subscription = ({ userVisibleOnly, key }) => ({
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { userVisibleOnly, applicationServerKey: new Uint8Array(key).buffer },
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
      unsubscribe: async () => (localStorage.removeItem(KEY), true),
    });
    PushManager.prototype.subscribe = async function (options) {
      const key = [...new Uint8Array(options.applicationServerKey)];
      window.__pushKeyLength = key.length;
      localStorage.setItem(KEY, JSON.stringify({ userVisibleOnly: options.userVisibleOnly, key }));
      return subscription({ userVisibleOnly: options.userVisibleOnly, key });
    };
    PushManager.prototype.getSubscription = async function () {
      const saved = localStorage.getItem(KEY);
      return saved ? subscription(JSON.parse(saved)) : null;
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

      // Shown even while the chat is on screen: the server holds pushes back while the user
      // attends it, and a push without a notification gets the browser's own.
      await push({ type: 'message', chat_id: chat.id, seq: 4 });
      await waitFor(async () => (await notifications(page, chat.id)).map((n) => n.data.seq), [4], 'a notification over the open chat');

      // The worker's page in the same browser: the subscription stays the customer's (not
      // stored again for the worker, shown as off there), and a click still opens /customer.
      const w = await c.context.newPage();
      const workerPosts = [];
      w.on('request', (r) => r.url().endsWith('/api/v1/push/subscriptions') && r.method() === 'POST' && workerPosts.push(r));
      const checked = w.waitForResponse((r) => r.url().endsWith('/api/v1/push/vapid-public-key'));
      await w.goto(`${f.server.url}/worker`);
      await w.locator(tid('message-button')).waitFor({ state: 'visible' });
      await checked;
      await openChat({ role: 'worker', page: w });
      assert.equal(await w.locator(tid('push-toggle')).getAttribute('data-state'), 'off', 'off for the worker');
      assert.equal(workerPosts.length, 0, 'the customer\'s subscription not stored for the worker');
      await push({ type: 'message', chat_id: chat.id, seq: 5 });
      await waitFor(async () => (await notifications(page, chat.id)).map((n) => n.data.seq), [5], 'the notification for seq 5');
      assert.equal((await notifications(page, chat.id))[0].data.url, `/customer?chat=${chat.id}`, 'a click opens the page that turned notifications on');
      await w.close();

      // The customer's page loaded again: the subscription is theirs, stored again, and on.
      const restored = page.waitForResponse((r) => r.url().endsWith('/api/v1/push/subscriptions') && r.request().method() === 'POST');
      await page.reload();
      assert.equal((await restored).status(), 201, 'stored again for the customer');
      await page.locator(tid('chat-window')).waitFor({ state: 'visible' });
      await waitFor(() => page.locator(tid('push-toggle')).getAttribute('data-state'), 'on', 'still on for the customer');

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
