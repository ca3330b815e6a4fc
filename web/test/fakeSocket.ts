import type { SocketLike } from '@omw-chat/client';

type Handler = (...args: never[]) => void;
export type ServerHandler = (event: string, payload: unknown, ack: (r: unknown) => void) => void;

/** An in-memory socket: the test plays the server through `onEmit` and `fire`. */
export class FakeSocket implements SocketLike {
  connected = false;
  readonly emitted: Array<{ event: string; payload: unknown }> = [];
  private handlers = new Map<string, Set<Handler>>();

  constructor(public onEmit: ServerHandler = () => undefined) {}

  on(event: string, fn: Handler) {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(fn);
    return this;
  }

  off(event: string, fn?: Handler) {
    if (fn) this.handlers.get(event)?.delete(fn);
    else this.handlers.delete(event);
    return this;
  }

  emit(event: string, ...args: unknown[]) {
    const [payload, ack] = args as [unknown, (r: unknown) => void];
    this.emitted.push({ event, payload });
    this.onEmit(event, payload, ack);
    return this;
  }

  /** A server → client event (or connect/disconnect). */
  fire(event: string, ...args: unknown[]) {
    for (const fn of [...(this.handlers.get(event) ?? [])]) (fn as (...a: unknown[]) => void)(...args);
  }

  connect() {
    this.connected = true;
    this.fire('connect');
    return this;
  }

  disconnect() {
    this.connected = false;
    return this;
  }

  /** The network drops (the client sees a transport close). */
  drop() {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }

  sent(event: string) {
    return this.emitted.filter((e) => e.event === event).map((e) => e.payload);
  }
}
