// Web push (SPEC §9.2): the server's VAPID key, this browser's subscription registered with the
// server and removed again. The REST calls carry the same Bearer token as the chat's.
import { debug } from './debug';
import type { ApiError, PushSubscriptionRequest, PushUnsubscribe, VapidPublicKey } from './types';

export interface PushApiOptions {
  /** Server origin; empty for the page's own origin. */
  baseUrl?: string;
  getToken: () => string | Promise<string>;
  fetch?: typeof fetch;
}

/** A refused or failed push call: the server's `{ error }`, or `network`. */
export class PushError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'PushError';
  }
}

async function call(api: PushApiOptions, method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${await api.getToken()}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const fetchImpl = api.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await fetchImpl(`${api.baseUrl ?? ''}/api/v1/push/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new PushError({ code: 'network', message: `${method} /api/v1/push/${path}: network error` });
  }
  if (res.ok) return res;
  const refusal = ((await res.json().catch(() => null)) as { error?: ApiError } | null)?.error;
  throw new PushError(refusal?.code ? refusal : { code: res.status >= 500 ? 'unavailable' : 'internal', message: `${method} /api/v1/push/${path}: ${res.status}` });
}

/** The server's VAPID public key (base64url). */
export async function getVapidPublicKey(api: PushApiOptions): Promise<string> {
  const body = (await (await call(api, 'GET', 'vapid-public-key')).json().catch(() => null)) as VapidPublicKey | null;
  if (typeof body?.key !== 'string' || !body.key) throw new PushError({ code: 'internal', message: 'no VAPID key in the answer' });
  return body.key;
}

/** Store a subscription for the signed-in user (`201`; storing it again is harmless). */
export async function savePushSubscription(api: PushApiOptions, subscription: PushSubscriptionRequest): Promise<void> {
  await call(api, 'POST', 'subscriptions', subscription);
}

export async function deletePushSubscription(api: PushApiOptions, endpoint: string): Promise<void> {
  await call(api, 'DELETE', 'subscriptions', { endpoint } satisfies PushUnsubscribe);
}

/** The subscription as the server takes it, from the browser's. */
export function subscriptionRequest(subscription: PushSubscription): PushSubscriptionRequest {
  const { endpoint, keys } = subscription.toJSON();
  if (!endpoint || !keys?.p256dh || !keys.auth) throw new PushError({ code: 'internal', message: 'the push subscription has no keys' });
  return { endpoint, keys: { p256dh: keys.p256dh, auth: keys.auth } };
}

export function base64UrlToBytes(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
}

function sameBytes(a: ArrayBuffer | null, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.length) return false;
  const x = new Uint8Array(a);
  return x.every((v, i) => v === b[i]);
}

/**
 * Whether the subscription was made for this VAPID public key (base64url). One made for another
 * key (the server's was replaced) never gets a push: the push service refuses every one.
 */
export function subscribedWithKey(subscription: PushSubscription, key: string): boolean {
  return sameBytes(subscription.options.applicationServerKey, base64UrlToBytes(key));
}

/** Whether this browser can subscribe to web push at all (Safari on iOS: only as an installed app). */
export function pushSupported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in globalThis && 'Notification' in globalThis;
}

/**
 * Subscribe this browser to the server's pushes and store the subscription for the signed-in
 * user. Needs notification permission and a registration with an active service worker.
 */
export async function enablePush(registration: ServiceWorkerRegistration, api: PushApiOptions): Promise<PushSubscription> {
  const key = await getVapidPublicKey(api);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !subscribedWithKey(subscription, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
  // Stored again when it existed: the browser may have been another user's until now.
  await savePushSubscription(api, subscriptionRequest(subscription));
  return subscription;
}

/** Unsubscribe this browser and tell the server. */
export async function disablePush(registration: ServiceWorkerRegistration, api: PushApiOptions): Promise<void> {
  const subscription = await registration.pushManager.getSubscription();
  if (!subscription) return;
  // The browser's unsubscribe is what stops the pushes: should the server miss the DELETE, the
  // push service answers its next push with 410 and the server drops the subscription then.
  await deletePushSubscription(api, subscription.endpoint).catch((err: unknown) => debug('push: DELETE failed', err));
  await subscription.unsubscribe();
}
