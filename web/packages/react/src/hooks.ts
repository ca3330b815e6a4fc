import { useEffect, useState, useSyncExternalStore } from 'react';
import type { ChatClient, ChatState, ClientState } from '@omw-chat/client';
import { useChatEnv } from './context';

export function useClientState(client: ChatClient): ClientState {
  return useSyncExternalStore(client.subscribe, client.getState, client.getState);
}

export function useChatState(client: ChatClient, chatId: string | null | undefined): ChatState | undefined {
  const state = useClientState(client);
  return chatId ? state.chats[chatId] : undefined;
}

/** An attachment path loaded with the token, as an object URL. */
export function useAuthMedia(url: string | null | undefined): { src: string | null; error: boolean } {
  const { fetchMedia } = useChatEnv();
  const [state, setState] = useState<{ url: string | null; src: string | null; error: boolean }>({ url: null, src: null, error: false });
  useEffect(() => {
    if (!url) return;
    let alive = true;
    fetchMedia(url).then(
      (src) => alive && setState({ url, src, error: false }),
      () => alive && setState({ url, src: null, error: true }),
    );
    return () => {
      alive = false;
    };
  }, [url, fetchMedia]);
  return state.url === url ? { src: state.src, error: state.error } : { src: null, error: false };
}

/** Re-render every `ms` (for relative times such as "last seen 5 minutes ago"). */
export function useNow(ms = 30_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
