import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { FakeServer } from '../../../../test/fakeServer';
import { ChatEnvProvider } from '../context';
import { PushPrompt, PushToggle } from './PushControls';

const KEYS = { p256dh: 'BAo_0ivx359EsZ2aYmWh2c7whxF7CHQP-Rpgl9shf1keO5HNrl-_9IyhjzSwwrgmB8S2jtaBtxbbtA9r3XBR18s', auth: 'aoVp0sxvSSqLoDQ1_NEUOA' };

/** The browser's side: Notification, PushManager and a service worker container, all stand-ins. */
function fakeBrowser(permission: NotificationPermission, answer: NotificationPermission = 'granted') {
  const notification = { permission, requestPermission: vi.fn(async () => (notification.permission = answer)) };
  let subscription: PushSubscription | null = null;
  const pushManager = {
    getSubscription: async () => subscription,
    subscribe: vi.fn(async (o: PushSubscriptionOptionsInit) => {
      const endpoint = 'https://push.example.com/send/1';
      const applicationServerKey = (o.applicationServerKey as Uint8Array<ArrayBuffer>).slice().buffer;
      subscription = { endpoint, options: { applicationServerKey }, toJSON: () => ({ endpoint, keys: KEYS }), unsubscribe: async () => true } as unknown as PushSubscription;
      return subscription;
    }),
  };
  const worker = { postMessage: vi.fn() };
  const registration = { active: worker, pushManager };
  const container = { register: vi.fn(async () => registration), addEventListener: vi.fn(), removeEventListener: vi.fn(), startMessages: vi.fn() };
  vi.stubGlobal('Notification', notification);
  vi.stubGlobal('PushManager', class {});
  Object.defineProperty(navigator, 'serviceWorker', { value: container, configurable: true });
  return { notification, pushManager, worker, container };
}

function renderChatControls(serviceWorkerUrl: string | null = '/sw.js') {
  return render(
    <ChatEnvProvider getToken={() => 'token'} serviceWorkerUrl={serviceWorkerUrl ?? undefined}>
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

    await userEvent.click(screen.getByTestId('push-toggle'));
    await waitFor(() => expect(screen.getByTestId('push-toggle')).toHaveAttribute('data-state', 'off'));
    expect(server.pushSubscriptions.size).toBe(0);
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
