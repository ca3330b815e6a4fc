import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeServer } from '../../../../test/fakeServer';
import { ChatEnvProvider } from '../context';
import { PushPrompt, PushToggle } from './PushControls';
import { pushOwner } from './PushProvider';

const KEYS = { p256dh: 'BAo_0ivx359EsZ2aYmWh2c7whxF7CHQP-Rpgl9shf1keO5HNrl-_9IyhjzSwwrgmB8S2jtaBtxbbtA9r3XBR18s', auth: 'aoVp0sxvSSqLoDQ1_NEUOA' };

const ENDPOINT = 'https://push.example.com/send/1';
const OWNER_KEY = 'omw_chat_push_owner';

/** An unsigned JWT with these claims (the page only reads them). */
function jwt(claims: Record<string, unknown>): string {
  const part = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${part({ alg: 'HS256' })}.${part(claims)}.sig`;
}
const CUSTOMER = jwt({ sub: 'c-1', role: 'customer', exp: 4102444800 });
const WORKER = jwt({ sub: 'w-1', role: 'worker', exp: 4102444800 });

/**
 * The browser's side: Notification, PushManager and a service worker container, all stand-ins.
 * `subscribedWith`: the browser already has a subscription, made for this key.
 */
function fakeBrowser(permission: NotificationPermission, answer: NotificationPermission = 'granted', subscribedWith?: ArrayBuffer) {
  const notification = { permission, requestPermission: vi.fn(async () => (notification.permission = answer)) };
  const unsubscribe = vi.fn(async () => ((subscription = null), true));
  const make = (applicationServerKey: ArrayBuffer) =>
    ({ endpoint: ENDPOINT, options: { applicationServerKey }, toJSON: () => ({ endpoint: ENDPOINT, keys: KEYS }), unsubscribe }) as unknown as PushSubscription;
  let subscription: PushSubscription | null = subscribedWith ? make(subscribedWith) : null;
  const pushManager = {
    getSubscription: async () => subscription,
    subscribe: vi.fn(async (o: PushSubscriptionOptionsInit) => (subscription = make((o.applicationServerKey as Uint8Array<ArrayBuffer>).slice().buffer))),
  };
  const worker = { postMessage: vi.fn() };
  const registration = { active: worker, pushManager };
  const container = { register: vi.fn(async () => registration), addEventListener: vi.fn(), removeEventListener: vi.fn(), startMessages: vi.fn() };
  vi.stubGlobal('Notification', notification);
  vi.stubGlobal('PushManager', class {});
  Object.defineProperty(navigator, 'serviceWorker', { value: container, configurable: true });
  return { notification, pushManager, worker, container, unsubscribe };
}

/** The server's VAPID key as the browser keeps it in a subscription. */
const serverKey = () => Uint8Array.from(atob(server.vapidKey.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;

/** Lets the check on load finish: it has read the key, and whatever follows has run. */
async function settled() {
  await waitFor(() => expect(server.requests).toContain('GET /api/v1/push/vapid-public-key'));
  await new Promise((r) => setTimeout(r, 20));
}

function renderChatControls(serviceWorkerUrl: string | null = '/sw.js', getToken: () => string = () => 'token') {
  return render(
    <ChatEnvProvider getToken={getToken} serviceWorkerUrl={serviceWorkerUrl ?? undefined}>
      <PushToggle />
      <PushPrompt />
    </ChatEnvProvider>,
  );
}

/** The prompt inside a chat window that the test closes and opens again. */
function ChatWindowStandIn() {
  const [open, setOpen] = useState(true);
  return open ? (
    <>
      <PushPrompt />
      <button data-testid="close-window" onClick={() => setOpen(false)} />
    </>
  ) : (
    <button data-testid="open-window" onClick={() => setOpen(true)} />
  );
}

let server: FakeServer;

beforeEach(() => {
  server = new FakeServer();
  vi.stubGlobal('fetch', server.fetch);
});

afterEach(() => {
  vi.unstubAllGlobals();
  Reflect.deleteProperty(navigator, 'serviceWorker');
});

describe('push opt-in', () => {
  test('offered, asked only on the click, then subscribed, stored and on', async () => {
    const b = fakeBrowser('default');
    renderChatControls();
    expect(await screen.findByTestId('push-prompt')).toHaveAttribute('data-notice', 'offer');
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'ask');
    expect(b.notification.requestPermission).not.toHaveBeenCalled();
    expect(b.container.register).not.toHaveBeenCalled();

    await userEvent.click(screen.getByTestId('push-enable'));
    await waitFor(() => expect(screen.getByTestId('push-prompt')).toHaveAttribute('data-notice', 'enabled'));
    expect(screen.getByTestId('push-prompt')).toHaveTextContent('Notifications are on.');
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on');
    expect(b.container.register).toHaveBeenCalledWith('/sw.js');
    expect(b.pushManager.subscribe).toHaveBeenCalledWith(expect.objectContaining({ userVisibleOnly: true }));
    expect([...server.pushSubscriptions.values()]).toEqual([{ endpoint: 'https://push.example.com/send/1', keys: KEYS }]);
    expect(b.worker.postMessage).toHaveBeenCalledWith({ type: 'locale', locale: 'en' });
    // This page is the one a notification opens, and this user the subscription's owner.
    expect(b.worker.postMessage).toHaveBeenCalledWith({ type: 'page' });
    expect(localStorage.getItem(OWNER_KEY)).toBe(location.pathname);

    await userEvent.click(screen.getByTestId('push-toggle'));
    await waitFor(() => expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off'));
    expect(server.pushSubscriptions.size).toBe(0);
    expect(localStorage.getItem(OWNER_KEY)).toBeNull();
    // Turned off on purpose: not offered again.
    expect(screen.queryByTestId('push-prompt')).toBeNull();
  });

  test('"on" is said once: not again when the chat opens next time', async () => {
    fakeBrowser('default');
    const first = render(
      <ChatEnvProvider getToken={() => 'token'} serviceWorkerUrl="/sw.js">
        <PushToggle />
        <ChatWindowStandIn />
      </ChatEnvProvider>,
    );
    await userEvent.click(await screen.findByTestId('push-enable'));
    await waitFor(() => expect(screen.getByTestId('push-prompt')).toHaveAttribute('data-notice', 'enabled'));
    await userEvent.click(screen.getByTestId('close-window'));
    await userEvent.click(screen.getByTestId('open-window'));
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on');
    expect(screen.queryByTestId('push-prompt')).toBeNull();
    first.unmount();
  });

  test('refused by the browser: said so, and the bell says why it is off', async () => {
    fakeBrowser('default', 'denied');
    renderChatControls();
    await userEvent.click(await screen.findByTestId('push-enable'));
    await waitFor(() => expect(screen.getByTestId('push-prompt')).toHaveAttribute('data-notice', 'blocked'));
    const bell = screen.getByTestId('push-toggle');
    expect(bell).toHaveAttribute('data-state', 'blocked');
    expect(bell).toBeDisabled();
    expect(bell).toHaveAccessibleName('Notifications are blocked in your browser’s settings');
    expect(server.requests).toEqual([]);
  });

  test('a server without push: the failure is shown with a retry', async () => {
    fakeBrowser('granted');
    server.vapidKey = '';
    renderChatControls();
    await userEvent.click(await screen.findByTestId('push-enable'));
    await waitFor(() => expect(screen.getByTestId('push-prompt')).toHaveAttribute('data-notice', 'failed'));
    expect(screen.getByTestId('push-enable')).toHaveTextContent('Try again');
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off');
  });

  test('dismissed: not offered again, the bell stays', async () => {
    fakeBrowser('default');
    const first = renderChatControls();
    await userEvent.click(await screen.findByTestId('push-dismiss'));
    expect(screen.queryByTestId('push-prompt')).toBeNull();
    first.unmount();
    renderChatControls();
    expect(await screen.findByTestId('push-toggle')).toHaveAttribute('data-state', 'ask');
    expect(screen.queryByTestId('push-prompt')).toBeNull();
  });

  test('no push in this browser: no offer, a disabled bell; no service worker given: nothing', async () => {
    renderChatControls();
    const bell = await screen.findByTestId('push-toggle');
    expect(bell).toHaveAttribute('data-state', 'unsupported');
    expect(bell).toBeDisabled();
    expect(screen.queryByTestId('push-prompt')).toBeNull();

    fakeBrowser('default');
    const { container } = renderChatControls(null);
    expect(container).toBeEmptyDOMElement();
  });
});

describe('push on load', () => {
  test('the owner: stored again and on; another user of the browser: off, not stored, until they turn it on', async () => {
    server.tokens.add(CUSTOMER).add(WORKER);
    const b = fakeBrowser('granted', 'granted', serverKey());
    localStorage.setItem(OWNER_KEY, 'customer:c-1');
    const customer = renderChatControls('/sw.js', () => CUSTOMER);
    await waitFor(() => expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on'));
    await waitFor(() => expect(server.requests).toContain('POST /api/v1/push/subscriptions'));
    customer.unmount();

    server.requests.length = 0;
    renderChatControls('/sw.js', () => WORKER);
    await settled();
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off');
    expect(server.requests).not.toContain('POST /api/v1/push/subscriptions');
    expect(b.unsubscribe).not.toHaveBeenCalled();
    expect(screen.getByTestId('push-prompt')).toHaveAttribute('data-notice', 'offer');

    await userEvent.click(screen.getByTestId('push-enable'));
    await waitFor(() => expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on'));
    expect(server.requests).toContain('POST /api/v1/push/subscriptions');
    expect(localStorage.getItem(OWNER_KEY)).toBe('worker:w-1');
    expect(b.worker.postMessage).toHaveBeenCalledWith({ type: 'page' });
  });

  test('no owner remembered (turned on before, or storage cleared): off, not stored', async () => {
    fakeBrowser('granted', 'granted', serverKey());
    renderChatControls();
    await settled();
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off');
    expect(server.requests).not.toContain('POST /api/v1/push/subscriptions');
  });

  test('a subscription for a replaced server key is dropped', async () => {
    const b = fakeBrowser('granted', 'granted', new Uint8Array(65).fill(4).buffer);
    localStorage.setItem(OWNER_KEY, location.pathname);
    renderChatControls();
    await waitFor(() => expect(b.unsubscribe).toHaveBeenCalled());
    await settled();
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off');
    expect(server.requests).not.toContain('POST /api/v1/push/subscriptions');
  });

  test('the check runs once, not again for a new getToken', async () => {
    const b = fakeBrowser('granted', 'granted', serverKey());
    localStorage.setItem(OWNER_KEY, location.pathname);
    const view = (getToken: () => string) => (
      <ChatEnvProvider getToken={getToken} serviceWorkerUrl="/sw.js">
        <PushToggle />
      </ChatEnvProvider>
    );
    const { rerender } = render(view(() => 'token'));
    await waitFor(() => expect(server.requests).toContain('POST /api/v1/push/subscriptions'));
    rerender(view(() => 'token'));
    rerender(view(() => 'token'));
    await new Promise((r) => setTimeout(r, 20));
    expect(b.container.register).toHaveBeenCalledTimes(1);
    expect(server.requests.filter((r) => r === 'POST /api/v1/push/subscriptions')).toHaveLength(1);
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on');
  });

  test('turned on by another user in another tab: off here', async () => {
    fakeBrowser('granted', 'granted', serverKey());
    localStorage.setItem(OWNER_KEY, location.pathname);
    renderChatControls();
    await waitFor(() => expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'on'));
    act(() => {
      window.dispatchEvent(new StorageEvent('storage', { key: OWNER_KEY, newValue: 'worker:w-1' }));
    });
    expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off');
  });

  test('the owner: role and subject of the token, else the page path', () => {
    expect(pushOwner(CUSTOMER)).toBe('customer:c-1');
    expect(pushOwner(jwt({ sub: 'x' }))).toBe(location.pathname);
    expect(pushOwner('token')).toBe(location.pathname);
  });
});
