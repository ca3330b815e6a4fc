import type { ApiError, SendKind } from './types';

/** A message the user sent that the server has not acknowledged yet. */
export interface OutboxEntry {
  client_id: string;
  chat_id: string;
  kind: SendKind;
  body?: string;
  attachment_id?: string;
  /** What the UI shows while the message is pending (name, mime, size of an upload). */
  preview?: { name: string; mime: string; size: number };
  created_at: string;
  status: 'sending' | 'failed';
  attempts: number;
  error?: ApiError;
}

/** The outbox, persisted in localStorage so pending sends survive a reload. */
export class Outbox {
  private entries: OutboxEntry[];

  constructor(
    private readonly key: string,
    private readonly storage: Storage | null,
  ) {
    this.entries = this.read();
  }

  private read(): OutboxEntry[] {
    try {
      const raw = this.storage?.getItem(this.key);
      if (!raw) return [];
      const parsed: unknown = JSON.parse(raw);
      if (!Array.isArray(parsed)) return [];
      return parsed.filter(
        (e): e is OutboxEntry =>
          typeof e === 'object' && e !== null && typeof (e as OutboxEntry).client_id === 'string' && typeof (e as OutboxEntry).chat_id === 'string',
      );
    } catch {
      return [];
    }
  }

  private write(): void {
    try {
      if (this.entries.length === 0) this.storage?.removeItem(this.key);
      else this.storage?.setItem(this.key, JSON.stringify(this.entries));
    } catch {
      // Storage full or unavailable: the outbox still works in memory.
    }
  }

  all(): readonly OutboxEntry[] {
    return this.entries;
  }

  get(clientId: string): OutboxEntry | undefined {
    return this.entries.find((e) => e.client_id === clientId);
  }

  add(entry: OutboxEntry): void {
    this.entries = [...this.entries, entry];
    this.write();
  }

  update(clientId: string, patch: Partial<OutboxEntry>): void {
    this.entries = this.entries.map((e) => (e.client_id === clientId ? { ...e, ...patch } : e));
    this.write();
  }

  remove(clientId: string): boolean {
    const before = this.entries.length;
    this.entries = this.entries.filter((e) => e.client_id !== clientId);
    if (this.entries.length !== before) {
      this.write();
      return true;
    }
    return false;
  }
}
