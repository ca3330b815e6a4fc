import { useCallback, useEffect, useRef, useState } from 'react';
import { ChatClient, tokenExpiry, tokenLocale, type User } from '@omw-chat/client';
import { errorOf } from '@omw-chat/react';
import { useDemoLocale } from '../i18n';
import { demoApi, type DemoBooking } from './api';

/** An error of the demo's calls as its code (and params): the page words it in its language. */
export type DemoError = ReturnType<typeof errorOf>;

export interface DemoSession {
  client: ChatClient;
  user: User;
  getToken: () => Promise<string>;
}

/** A demo token for the role and a connected ChatClient that refreshes it before expiry. */
export function useDemoSession(role: 'customer' | 'worker'): { session: DemoSession | null; error: DemoError | null } {
  const [session, setSession] = useState<DemoSession | null>(null);
  const [error, setError] = useState<DemoError | null>(null);
  const { setTokenLocale } = useDemoLocale();
  useEffect(() => {
    let cancelled = false;
    let client: ChatClient | null = null;
    (async () => {
      const first = await demoApi.token(role);
      let token = first.token;
      const getToken = async () => {
        const exp = tokenExpiry(token);
        if (exp && exp * 1000 - Date.now() < 5 * 60_000) token = (await demoApi.token(role)).token;
        return token;
      };
      if (cancelled) return;
      // The JWT claim `locale` chooses the language unless the switcher did (SPEC §9.5).
      setTokenLocale(tokenLocale(token));
      client = new ChatClient({ user: first.user, getToken });
      client.connect();
      setSession({ client, user: first.user, getToken });
    })().catch((err: unknown) => {
      if (!cancelled) setError(errorOf(err));
    });
    return () => {
      cancelled = true;
      client?.close();
    };
  }, [role, setTokenLocale]);
  return { session, error };
}

/**
 * The demo booking, refreshed on mount, on window focus, every 10 s, and whenever the chat
 * tells us the lifecycle moved (chat_available, chat_closed, a system message).
 */
export function useDemoBooking(client: ChatClient | null) {
  const [data, setData] = useState<DemoBooking | null>(null);
  const [error, setError] = useState<DemoError | null>(null);
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);

  const apply = useCallback((p: Promise<DemoBooking>) => {
    const mine = ++seq.current;
    return p.then(
      (d) => {
        if (mine === seq.current) {
          setData(d);
          setError(null);
        }
      },
      (err: unknown) => {
        if (mine === seq.current) setError(errorOf(err));
      },
    );
  }, []);

  const refresh = useCallback(() => apply(demoApi.booking()), [apply]);

  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), 10_000);
    const onFocus = () => void refresh();
    window.addEventListener('focus', onFocus);
    return () => {
      clearInterval(t);
      window.removeEventListener('focus', onFocus);
    };
  }, [refresh]);

  useEffect(() => {
    if (!client) return;
    const offs = [
      client.on('chat_available', () => void refresh()),
      client.on('chat_closed', () => void refresh()),
      client.on('connect', () => void refresh()),
      client.on('new_message', (e) => {
        if (e.message.kind === 'system') void refresh();
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [client, refresh]);

  const run = useCallback(
    async (p: () => Promise<DemoBooking>) => {
      setBusy(true);
      try {
        await apply(p());
      } finally {
        setBusy(false);
      }
    },
    [apply],
  );

  return { data, error, busy, refresh, run };
}

/**
 * The chat id of the current booking; after the chat is closed and deleted (the booking API
 * then returns no chat) the last one stays, so its closed state remains visible.
 */
export function useBookingChat(client: ChatClient | null, data: DemoBooking | null): string | null {
  const [known, setKnown] = useState<{ bookingId: string; chatId: string } | null>(null);
  const bookingId = data?.booking?.id ?? null;
  const chat = data?.chat ?? null;
  if (chat && (known?.chatId !== chat.id || known.bookingId !== chat.booking_id)) {
    setKnown({ bookingId: chat.booking_id, chatId: chat.id });
  }
  const chatId = chat?.id ?? (known && known.bookingId === bookingId ? known.chatId : null);
  const active = chat?.status === 'active';

  useEffect(() => {
    if (!client || !chatId || !active) return;
    client.join({ chat_id: chatId }).catch(() => undefined);
  }, [client, chatId, active]);

  // Leave a chat when the page moves on to another booking.
  const prev = useRef<string | null>(null);
  useEffect(() => {
    if (client && prev.current && prev.current !== chatId) client.leave(prev.current);
    prev.current = chatId;
  }, [client, chatId]);

  return chatId;
}
