// The omw-chat service worker: web push notifications (SPEC §9.2). A push only says which chat
// has news, `{ type: "message", chat_id, seq }`, without text or names, and so does the
// notification: one per chat (the chat id is its tag), in the reader's language, and a click
// opens that chat. The page (@omw-chat/react) posts `{ type: "locale", locale }`, and
// `{ type: "page" }` when it turns notifications on; this worker posts
// `{ type: "open-chat", chat_id }` to that page, or opens `<page>?chat=<chat_id>`.

const APP_NAME = 'OMW';
/** The notification's text; the languages of the chat's catalogs (en-XA falls back to English). */
const NEW_MESSAGE = { en: 'New message', de: 'Neue Nachricht', ar: 'رسالة جديدة' };
/** The page's language and path, in Cache storage: a worker's variables die with it between events. */
const SETTINGS_CACHE = 'omw-chat-sw';
const SETTINGS_KEY = '/omw-chat-sw/settings';
/** The settings writes in order, each merged into the last (a locale and a page arrive together). */
let saving = Promise.resolve();

// No caches to migrate: a new version can take the next push at once.
self.addEventListener('install', () => self.skipWaiting());

self.addEventListener('message', (event) => {
  const msg = event.data;
  if (msg?.type === 'locale' && typeof msg.locale === 'string') {
    event.waitUntil(saveSettings({ locale: msg.locale }));
  } else if (msg?.type === 'page' && event.source?.url) {
    // Only the page that turned notifications on: the subscription is its user's (the server
    // gives it to whoever posted it last), and any other page of the site posts its locale too.
    event.waitUntil(saveSettings({ page: new URL(event.source.url).pathname }));
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
  // Always shown, even over a window showing the chat: with `userVisibleOnly` a push without a
  // notification makes the browser show its own ("updated in the background"). The server holds
  // pushes back while the user attends the chat.
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

/** Merges `changes` into the saved settings: each message sets only its own (locale or page). */
function saveSettings(changes) {
  saving = saving.then(async () => {
    const settings = { ...(await readSettings()), ...changes };
    const cache = await caches.open(SETTINGS_CACHE);
    await cache.put(SETTINGS_KEY, new Response(JSON.stringify(settings), { headers: { 'content-type': 'application/json' } }));
  });
  // A failed write must not stop the next ones.
  saving = saving.catch(() => undefined);
  return saving;
}

/** The saved settings, after the writes still under way. */
async function loadSettings() {
  await saving;
  return readSettings();
}

async function readSettings() {
  try {
    const saved = await (await caches.open(SETTINGS_CACHE)).match(SETTINGS_KEY);
    return saved ? await saved.json() : {};
  } catch {
    return {};
  }
}
