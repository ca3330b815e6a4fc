/** A minimal external store: `getState()`, `subscribe(fn)`, immutable updates. */
export class Store<S> {
  private state: S;
  private readonly listeners = new Set<() => void>();

  constructor(initial: S) {
    this.state = initial;
  }

  getState = (): S => this.state;

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  setState(update: (s: S) => S): void {
    const next = update(this.state);
    if (next === this.state) return;
    this.state = next;
    for (const fn of [...this.listeners]) fn();
  }
}
