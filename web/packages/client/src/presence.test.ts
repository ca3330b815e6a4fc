import { afterEach, describe, expect, test, vi } from 'vitest';
import { ChatClient, pageFocus, type FocusSource } from './index';
import { FakeServer, ME } from '../../../test/fakeServer';
import type { FakeSocket } from '../../../test/fakeSocket';

/** A focus the test moves; `set` tells the watcher as the page's events would. */
class TestFocus implements FocusSource {
  value = false;
  private listener: (() => void) | null = null;
  focused = () => this.value;
  watch(onChange: () => void) {
    this.listener = onChange;
    return () => {
      this.listener = null;
    };
  }
  get watched() {
    return this.listener !== null;
  }
  set(value: boolean) {
    this.value = value;
    this.listener?.();
  }
}

function setup(server = new FakeServer()) {
  const focus = new TestFocus();
  let socket!: FakeSocket;
  const client = new ChatClient({ user: ME, getToken: () => 'token', socketFactory: () => (socket = server.socket()), focus, ackTimeoutMs: 200 });
  const reports = () => socket.sent('presence');
  return { server, focus, client, socket: () => socket, reports };
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('presence', () => {
  test('reports focus changes, each once', async () => {
    const { focus, client, reports } = setup();
    client.connect();
    // A fresh socket counts as not attending: nothing to say while unfocused.
    expect(reports()).toEqual([]);
    focus.set(true);
    focus.set(true);
    expect(reports()).toEqual([{ focused: true }]);
    focus.set(false);
    focus.set(false);
    focus.set(true);
    expect(reports()).toEqual([{ focused: true }, { focused: false }, { focused: true }]);
    client.close();
  });

  test('reports again after every reconnect, and nothing while disconnected', async () => {
    const { focus, client, socket, reports } = setup();
    client.connect();
    focus.set(true);
    socket().drop();
    focus.set(false);
    focus.set(true);
    expect(reports()).toEqual([{ focused: true }]);
    socket().connect();
    expect(reports()).toEqual([{ focused: true }, { focused: true }]);
    // Unfocused when the connection comes back: the server's default, nothing to send.
    socket().drop();
    focus.set(false);
    socket().connect();
    expect(reports()).toEqual([{ focused: true }, { focused: true }]);
    client.close();
  });

  test('refused as unknown (an older server): not retried by itself, but the next change reports again', async () => {
    vi.useFakeTimers();
    const { server, focus, client, reports } = setup();
    server.refusePresence = true;
    client.connect();
    focus.set(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reports()).toEqual([{ focused: true }]);
    server.refusePresence = false;
    // Still focused: the server did not take the first report, so this one goes out.
    focus.set(true);
    focus.set(true);
    expect(reports()).toEqual([{ focused: true }, { focused: true }]);
    client.close();
  });

  test('refused otherwise: asked again after retry_after_ms, else after 2 s', async () => {
    vi.useFakeTimers();
    const { server, focus, client, reports } = setup();
    server.refusePresence = true;
    server.presenceRefusal = { code: 'rate_limited', message: 'slow down', retry_after_ms: 500 };
    client.connect();
    focus.set(true);
    await vi.advanceTimersByTimeAsync(499);
    expect(reports()).toEqual([{ focused: true }]);
    // Refused again, now without a hint; the retry says what the focus is by then.
    server.presenceRefusal = { code: 'internal', message: 'oops' };
    await vi.advanceTimersByTimeAsync(1);
    expect(reports()).toEqual([{ focused: true }, { focused: true }]);
    focus.value = false;
    await vi.advanceTimersByTimeAsync(1999);
    expect(reports()).toHaveLength(2);
    server.refusePresence = false;
    await vi.advanceTimersByTimeAsync(1);
    expect(reports()).toEqual([{ focused: true }, { focused: true }, { focused: false }]);
    // Taken: nothing more.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reports()).toHaveLength(3);
    client.close();
  });

  test('a newer report supersedes a pending retry; disconnect and close cancel it', async () => {
    vi.useFakeTimers();
    const { server, focus, client, socket, reports } = setup();
    server.refusePresence = true;
    server.presenceRefusal = { code: 'rate_limited', message: 'slow down', retry_after_ms: 1000 };
    client.connect();
    focus.set(true);
    await vi.advanceTimersByTimeAsync(0);
    server.refusePresence = false;
    focus.set(false);
    expect(reports()).toEqual([{ focused: true }, { focused: false }]);
    // Changed without an event: a retry still pending would report it.
    focus.value = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports()).toHaveLength(2);

    server.refusePresence = true;
    focus.set(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(reports()).toHaveLength(3);
    socket().drop();
    focus.value = false;
    socket().connect();
    focus.value = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports()).toHaveLength(3);

    focus.set(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(reports()).toHaveLength(4);
    client.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  test('close stops watching the focus', () => {
    const { focus, client } = setup();
    client.connect();
    expect(focus.watched).toBe(true);
    client.close();
    expect(focus.watched).toBe(false);
  });

  test('the page focus: visible and focused, told by focus, blur and visibilitychange', () => {
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('visible');
    const hasFocus = vi.spyOn(document, 'hasFocus').mockReturnValue(true);
    const source = pageFocus()!;
    const onChange = vi.fn();
    const stop = source.watch(onChange);
    expect(source.focused()).toBe(true);
    window.dispatchEvent(new Event('blur'));
    window.dispatchEvent(new Event('focus'));
    document.dispatchEvent(new Event('visibilitychange'));
    expect(onChange).toHaveBeenCalledTimes(3);
    visibility.mockReturnValue('hidden');
    expect(source.focused()).toBe(false);
    visibility.mockReturnValue('visible');
    hasFocus.mockReturnValue(false);
    expect(source.focused()).toBe(false);
    stop();
    window.dispatchEvent(new Event('focus'));
    expect(onChange).toHaveBeenCalledTimes(3);
  });

  test('outside a browser there is no page focus, and a client never reports', () => {
    vi.stubGlobal('document', undefined);
    expect(pageFocus()).toBeNull();
    const server = new FakeServer();
    let socket!: FakeSocket;
    const client = new ChatClient({ user: ME, getToken: () => 'token', socketFactory: () => (socket = server.socket()) });
    client.connect();
    expect(socket.sent('presence')).toEqual([]);
    client.close();
  });
});
