import { describe, expect, test, vi } from 'vitest';
import { PushError, deletePushSubscription, disablePush, enablePush, getVapidPublicKey, savePushSubscription, subscribedWithKey, type PushApiOptions } from './index';
import { base64UrlToBytes } from './push';
import { FakeServer } from '../../../test/fakeServer';

const KEYS = { p256dh: 'BAo_0ivx359EsZ2aYmWh2c7whxF7CHQP-Rpgl9shf1keO5HNrl-_9IyhjzSwwrgmB8S2jtaBtxbbtA9r3XBR18s', auth: 'aoVp0sxvSSqLoDQ1_NEUOA' };

function api(server: FakeServer, token = 'token'): PushApiOptions {
  return { getToken: async () => token, fetch: server.fetch, baseUrl: 'https://chat.test' };
}

/** A browser subscription as PushManager gives it. */
function subscription(endpoint: string, applicationServerKey: ArrayBuffer | null) {
  return {
    endpoint,
    options: { applicationServerKey, userVisibleOnly: true },
    toJSON: () => ({ endpoint, expirationTime: null, keys: KEYS }),
    unsubscribe: vi.fn(async () => true),
  } as unknown as PushSubscription & { unsubscribe: ReturnType<typeof vi.fn> };
}

/** A service worker registration whose PushManager hands out `subscription`s. */
function registration(existing: PushSubscription | null = null) {
  let current = existing;
  const subscribe = vi.fn(async (o: PushSubscriptionOptionsInit) => {
    const key = o.applicationServerKey as Uint8Array<ArrayBuffer>;
    current = subscription(`https://push.example.com/send/${subscribe.mock.calls.length}`, key.slice().buffer);
    return current;
  });
  const pushManager = { getSubscription: vi.fn(async () => current), subscribe };
  return { reg: { pushManager } as unknown as ServiceWorkerRegistration, subscribe, current: () => current };
}

describe('push REST', () => {
  test('the VAPID key, storing and removing a subscription, with the Bearer token', async () => {
    const server = new FakeServer();
    expect(await getVapidPublicKey(api(server))).toBe(server.vapidKey);
    await savePushSubscription(api(server), { endpoint: 'https://push.example.com/a', keys: KEYS });
    expect(server.pushSubscriptions.get('https://push.example.com/a')).toEqual({ endpoint: 'https://push.example.com/a', keys: KEYS });
    await deletePushSubscription(api(server), 'https://push.example.com/a');
    expect(server.pushSubscriptions.size).toBe(0);
    expect(server.requests).toEqual(['GET /api/v1/push/vapid-public-key', 'POST /api/v1/push/subscriptions', 'DELETE /api/v1/push/subscriptions']);
  });

  test('refusals become a PushError with the server code; no network is `network`', async () => {
    const server = new FakeServer();
    const refused = await getVapidPublicKey(api(server, 'stale')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PushError);
    expect((refused as PushError).error.code).toBe('unauthorized');
    const invalid = await savePushSubscription(api(server), { endpoint: 'http://10.0.0.1/', keys: KEYS }).catch((e: PushError) => e.error.code);
    expect(invalid).toBe('invalid_payload');
    const offline: PushApiOptions = { getToken: () => 'token', fetch: () => Promise.reject(new TypeError('Failed to fetch')) };
    expect(await getVapidPublicKey(offline).catch((e: PushError) => e.error.code)).toBe('network');
    const html: PushApiOptions = { getToken: () => 'token', fetch: async () => new Response('<html>', { status: 502 }) };
    expect(await getVapidPublicKey(html).catch((e: PushError) => e.error.code)).toBe('unavailable');
  });
});

describe('enablePush / disablePush', () => {
  test('subscribes with the server key, user-visible only, and stores the subscription', async () => {
    const server = new FakeServer();
    const { reg, subscribe } = registration();
    const sub = await enablePush(reg, api(server));
    expect(subscribe).toHaveBeenCalledTimes(1);
    const options = subscribe.mock.calls[0]![0];
    expect(options.userVisibleOnly).toBe(true);
    expect(options.applicationServerKey).toEqual(base64UrlToBytes(server.vapidKey));
    expect((options.applicationServerKey as Uint8Array).length).toBe(65);
    expect([...server.pushSubscriptions.values()]).toEqual([{ endpoint: sub.endpoint, keys: KEYS }]);
  });

  test('keeps a subscription made for the same key, replaces one made for another', async () => {
    const server = new FakeServer();
    const same = subscription('https://push.example.com/same', base64UrlToBytes(server.vapidKey).buffer);
    const a = registration(same);
    expect(await enablePush(a.reg, api(server))).toBe(same);
    expect(a.subscribe).not.toHaveBeenCalled();
    expect(server.pushSubscriptions.has('https://push.example.com/same')).toBe(true);

    const old = subscription('https://push.example.com/old', new Uint8Array(65).fill(4).buffer);
    const b = registration(old);
    const fresh = await enablePush(b.reg, api(server));
    expect(old.unsubscribe).toHaveBeenCalled();
    expect(b.subscribe).toHaveBeenCalledTimes(1);
    expect(server.pushSubscriptions.has(fresh.endpoint)).toBe(true);
  });

  test('subscribedWithKey: the key the subscription was made for', () => {
    const server = new FakeServer();
    expect(subscribedWithKey(subscription('https://push.example.com/a', base64UrlToBytes(server.vapidKey).buffer), server.vapidKey)).toBe(true);
    expect(subscribedWithKey(subscription('https://push.example.com/b', new Uint8Array(65).fill(4).buffer), server.vapidKey)).toBe(false);
    expect(subscribedWithKey(subscription('https://push.example.com/c', null), server.vapidKey)).toBe(false);
  });

  test('without a VAPID key nothing is subscribed', async () => {
    const server = new FakeServer();
    const { reg, subscribe } = registration();
    await expect(enablePush(reg, api(server, 'stale'))).rejects.toBeInstanceOf(PushError);
    expect(subscribe).not.toHaveBeenCalled();
  });

  test('disable removes the subscription on the server and in the browser, the browser even when the server cannot be reached', async () => {
    const server = new FakeServer();
    const { reg, current } = registration();
    await enablePush(reg, api(server));
    const sub = current() as PushSubscription & { unsubscribe: ReturnType<typeof vi.fn> };
    await disablePush(reg, api(server));
    expect(server.pushSubscriptions.size).toBe(0);
    expect(sub.unsubscribe).toHaveBeenCalled();

    const other = registration(subscription('https://push.example.com/x', null));
    const offline: PushApiOptions = { getToken: () => 'token', fetch: () => Promise.reject(new TypeError('Failed to fetch')) };
    await disablePush(other.reg, offline);
    expect((other.current() as unknown as { unsubscribe: ReturnType<typeof vi.fn> }).unsubscribe).toHaveBeenCalled();
  });
});
