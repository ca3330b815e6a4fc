// The omw-chat service worker: web push notifications (SPEC §9.2). A push only says which chat
// has news, `{ type: "message", chat_id, seq }`, without text or names, and so does the
// notification: one per chat (the chat id is its tag), in the reader's language, and a click
// opens that chat. The page (@omw-chat/react) posts `{ type: "locale", locale }`; this worker
// posts `{ type: "open-chat", chat_id }` to the page, or opens `<page>?chat=<chat_id>`.

const APP_NAME = 'OMW';
/** The notification's text; the languages of the chat's catalogs (en-XA falls back to English). */
const NEW_MESSAGE = { en: 'New message', de: 'Neue Nachricht', ar: 'رسالة جديدة' };
/** The page's language and path, in Cache storage: a worker's variables die with it between events. */
const SETTINGS_CACHE = 'omw-chat-sw';
const SETTINGS_KEY = '/omw-chat-sw/settings';

// No caches to migrate: a new version can take the next push at once.
self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('message', (event) => {
  const msg = event.data;
  if (msg?.type === 'locale' && typeof msg.locale === 'string') {
    const page = event.source?.url ? new URL(event.source.url).pathname : null;
    event.waitUntil(saveSettings({ locale: msg.locale, page }));
  } else if (msg?.type === 'test:click' && typeof msg.tag === 'string') {
    // For tests/e2e/push.test.mjs, which cannot click a notification: what a click on each of
    // the shown notifications with this tag does.
    event.waitUntil(clickNotifications(msg.tag));
  }
});

self.addEventListener('push', (event) => event.waitUntil(showNewMessage(event.data)));

self.addEventListener('notificationclick', (event) => event.waitUntil(openChat(event.notification)));

async function showNewMessage(data) {
  let push = null;
  try {
    push = data?.json();
  } catch {
    return;
  }
  if (push?.type !== 'message' || typeof push.chat_id !== 'string' || !push.chat_id) return;
  const chatId = push.chat_id;
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const onScreen = windows.some((w) => w.focused && w.visibilityState === 'visible' && new URL(w.url).searchParams.get('chat') === chatId);
  if (onScreen) return;
  const { locale, page } = await loadSettings();
  const lang = language(locale ?? self.navigator.language);
  const url = new URL(page ?? '/', self.location.origin);
  url.searchParams.set('chat', chatId);
  await self.registration.showNotification(APP_NAME, {
    body: NEW_MESSAGE[lang],
    lang,
    dir: lang === 'ar' ? 'rtl' : 'ltr',
    tag: chatId,
    renotify: true,
    data: { chat_id: chatId, seq: push.seq, url: url.pathname + url.search },
  });
}

async function openChat(notification) {
  notification.close();
  const { chat_id: chatId, url } = notification.data ?? {};
  if (typeof chatId !== 'string') return;
  const target = new URL(url ?? '/', self.location.origin);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const page = windows.find((w) => new URL(w.url).pathname === target.pathname);
  if (!page) {
    await self.clients.openWindow(target.href);
    return;
  }
  page.postMessage({ type: 'open-chat', chat_id: chatId });
  // Only a real click may bring a window to the front (not the test hook).
  await page.focus().catch(() => undefined);
}

async function clickNotifications(tag) {
  for (const notification of await self.registration.getNotifications({ tag })) await openChat(notification);
}

function language(tag) {
  const lang = String(tag).toLowerCase().split(/[-_]/)[0];
  return Object.hasOwn(NEW_MESSAGE, lang) ? lang : 'en';
}

async function saveSettings(settings) {
  const cache = await caches.open(SETTINGS_CACHE);
  await cache.put(SETTINGS_KEY, new Response(JSON.stringify(settings), { headers: { 'content-type': 'application/json' } }));
}

async function loadSettings() {
  try {
    const saved = await (await caches.open(SETTINGS_CACHE)).match(SETTINGS_KEY);
    return saved ? await saved.json() : {};
  } catch {
    return {};
  }
}
