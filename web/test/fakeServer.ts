import type { Chat, Message, Participant, PushSubscriptionRequest } from '@omw-chat/client';
import { FakeSocket } from './fakeSocket';

export const ME = { id: 'c1', name: 'Alice', role: 'customer' as const };
export const OTHER = { id: 'w1', name: 'Bob', role: 'worker' as const };

export function makeMessage(seq: number, over: Partial<Message> = {}): Message {
  return {
    id: `m${seq}`,
    chat_id: 'chat1',
    seq,
    sender: { id: OTHER.id, role: 'worker', name: OTHER.name },
    kind: 'text',
    body: `message ${seq}`,
    attachment: null,
    client_id: null,
    created_at: new Date(Date.UTC(2025, 0, 1, 12, 0, seq)).toISOString(),
    ...over,
  };
}

/** A tiny model of the server's chat logic behind a FakeSocket. */
export class FakeServer {
  messages: Message[] = [makeMessage(1, { kind: 'system', sender: { id: 'system', role: 'system', name: 'OMW' }, body: 'Chat opened' })];
  status: 'active' | 'closed' = 'active';
  /** When true, send_message is stored but never acknowledged (a lost ack). */
  dropAcks = false;
  /** When true, send_message is lost on the way (neither stored nor acknowledged). */
  loseSends = false;
  /** When true, `presence` is refused with `presenceRefusal`: by default as by a server that predates it. */
  refusePresence = false;
  presenceRefusal: { code: string; message: string; retry_after_ms?: number } = { code: 'invalid_payload', message: 'unknown event: presence' };
  reads: Record<string, number> = { [ME.id]: 0, [OTHER.id]: 0 };
  readonly sockets: FakeSocket[] = [];

  chat(): Chat {
    return {
      id: 'chat1',
      booking_id: 'b1',
      status: this.status,
      booking_status: 'accepted',
      customer: { id: ME.id, name: ME.name },
      worker: { id: OTHER.id, name: OTHER.name },
      last_seq: this.messages.length,
      created_at: new Date(Date.UTC(2025, 0, 1)).toISOString(),
      closed_at: null,
      close_reason: null,
    };
  }

  participants(): Participant[] {
    return [
      { ...ME, online: true, last_seen: null, last_read_seq: this.reads[ME.id] ?? 0 },
      { ...OTHER, online: false, last_seen: new Date(Date.UTC(2025, 0, 1)).toISOString(), last_read_seq: this.reads[OTHER.id] ?? 0 },
    ];
  }

  add(body: string, over: Partial<Message> = {}): Message {
    const m = makeMessage(this.messages.length + 1, { body, ...over });
    this.messages.push(m);
    return m;
  }

  /** Web push (SPEC §9.2): the VAPID public key (a P-256 point, base64url) and the stored subscriptions. */
  vapidKey = 'BNQfWOrsVmX6ZEdroyNCg3op6NV4VwuBUbikCq-STXMbxxEFtplmbhQqjrzCoaueSNTcMqGHK4XdQpt1GaKuLIc';
  readonly pushSubscriptions = new Map<string, PushSubscriptionRequest>();
  /** Every REST request, as `METHOD path`. */
  readonly requests: string[] = [];

  /** The Bearer tokens the REST side takes. */
  readonly tokens = new Set(['token']);

  /** The REST side as a `fetch` (only /api/v1/push/* is modelled); the token must be one of `tokens`. */
  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const method = init.method ?? 'GET';
    const path = new URL(String(input), 'http://chat.test').pathname;
    this.requests.push(`${method} ${path}`);
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
    const refuse = (status: number, code: string) => json(status, { error: { code, message: code } });
    if (!this.tokens.has(new Headers(init.headers).get('authorization')?.replace(/^Bearer /, '') ?? '')) return refuse(401, 'unauthorized');
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    switch (`${method} ${path}`) {
      case 'GET /api/v1/push/vapid-public-key':
        return json(200, { key: this.vapidKey });
      case 'POST /api/v1/push/subscriptions': {
        const sub = body as unknown as PushSubscriptionRequest;
        if (!sub.endpoint?.startsWith('https://') || !sub.keys?.p256dh || !sub.keys.auth) return refuse(400, 'invalid_payload');
        this.pushSubscriptions.set(sub.endpoint, sub);
        return new Response(null, { status: 201 });
      }
      case 'DELETE /api/v1/push/subscriptions':
        this.pushSubscriptions.delete(body.endpoint as string);
        return new Response(null, { status: 204 });
      default:
        return refuse(404, 'not_found');
    }
  };

  socket(): FakeSocket {
    const s = new FakeSocket((event, payload, ack) => this.handle(event, payload as Record<string, unknown>, ack));
    this.sockets.push(s);
    return s;
  }

  private handle(event: string, p: Record<string, unknown>, ack: (r: unknown) => void) {
    switch (event) {
      case 'join_chat': {
        const newest = this.messages.slice(-50);
        ack({ ok: true, chat: this.chat(), messages: newest, has_more: this.messages.length > 50, participants: this.participants() });
        return;
      }
      case 'load_messages': {
        const limit = (p.limit as number | undefined) ?? 50;
        let list: Message[];
        let hasMore: boolean;
        if (typeof p.after_seq === 'number') {
          const after = this.messages.filter((m) => m.seq > (p.after_seq as number));
          list = after.slice(0, limit);
          hasMore = after.length > limit;
        } else {
          const before = this.messages.filter((m) => typeof p.before_seq !== 'number' || m.seq < (p.before_seq as number));
          list = before.slice(-limit);
          hasMore = before.length > limit;
        }
        ack({ ok: true, messages: list, has_more: hasMore });
        return;
      }
      case 'send_message': {
        if (this.status === 'closed') {
          ack({ ok: false, error: { code: 'chat_closed', message: 'closed' } });
          return;
        }
        if (this.loseSends) return;
        const existing = this.messages.find((m) => m.client_id === p.client_id && m.sender.id === ME.id);
        const m =
          existing ??
          this.add(p.body as string, {
            kind: p.kind as Message['kind'],
            client_id: p.client_id as string,
            sender: { id: ME.id, role: 'customer', name: ME.name },
          });
        if (!this.dropAcks) ack({ ok: true, message: m });
        return;
      }
      case 'mark_read': {
        this.reads[ME.id] = Math.max(this.reads[ME.id] ?? 0, p.up_to_seq as number);
        ack({ ok: true, last_read_seq: this.reads[ME.id] });
        return;
      }
      case 'presence':
        ack(this.refusePresence ? { ok: false, error: this.presenceRefusal } : { ok: true });
        return;
      default:
        ack({ ok: true });
    }
  }
}
