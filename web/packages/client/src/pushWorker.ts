// The page's side of the service worker that shows push notifications (the demo's is
// web/public/sw.js): the page tells it the reader's language and, when it turns notifications
// on, that it is the page a click opens; the worker asks the page to open a chat when that
// chat's notification is clicked.

/** page → worker: word notifications in this language (BCP 47). */
export interface LocaleMessage {
  type: 'locale';
  locale: string;
}

/**
 * page → worker: a click on a notification opens this page (the worker takes the path from the
 * sender's URL). Posted by the page that turned notifications on, since the subscription is its
 * user's; several pages of the site (the demo's /customer and /worker) share one worker.
 */
export interface PageMessage {
  type: 'page';
}

/** worker → page: the user clicked the notification of this chat. */
export interface OpenChatMessage {
  type: 'open-chat';
  chat_id: string;
}

/** Register the worker at `url` and wait until it is active (a push subscription needs that). */
export async function registerPushWorker(url: string): Promise<ServiceWorkerRegistration> {
  const registration = await navigator.serviceWorker.register(url);
  const worker = registration.installing ?? registration.waiting;
  if (!registration.active && worker) {
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (registration.active) resolve();
        else if (worker.state === 'redundant') reject(new Error(`service worker ${url} failed to install`));
      };
      worker.addEventListener('statechange', check);
      check();
    });
  }
  return registration;
}

export function tellPushWorkerLocale(registration: ServiceWorkerRegistration, locale: string): void {
  registration.active?.postMessage({ type: 'locale', locale } satisfies LocaleMessage);
}

export function tellPushWorkerPage(registration: ServiceWorkerRegistration): void {
  registration.active?.postMessage({ type: 'page' } satisfies PageMessage);
}

/** Calls `fn` with the chat id whenever the worker asks this page to open a chat; returns the unsubscribe. */
export function onOpenChatRequest(fn: (chatId: string) => void): () => void {
  const container = typeof navigator !== 'undefined' ? navigator.serviceWorker : undefined;
  if (!container) return () => undefined;
  const listener = (e: MessageEvent<unknown>) => {
    const m = e.data as Partial<OpenChatMessage> | null;
    if (m?.type === 'open-chat' && typeof m.chat_id === 'string') fn(m.chat_id);
  };
  container.addEventListener('message', listener);
  // Messages wait in a queue until the page says it listens (or the document has loaded).
  container.startMessages();
  return () => container.removeEventListener('message', listener);
}
