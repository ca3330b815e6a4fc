import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { fetchMediaUrl } from '@omw-chat/client';

export interface ChatEnv {
  /** Server origin; empty for the page's own origin. */
  baseUrl: string;
  getToken: () => string | Promise<string>;
  /** Authenticated media → object URL (injectable for tests). */
  fetchMedia: (url: string) => Promise<string>;
}

const ChatEnvContext = createContext<ChatEnv | null>(null);

export function ChatEnvProvider({
  baseUrl = '',
  getToken,
  fetchMedia,
  children,
}: {
  baseUrl?: string;
  getToken: () => string | Promise<string>;
  fetchMedia?: (url: string) => Promise<string>;
  children: ReactNode;
}) {
  const value = useMemo<ChatEnv>(
    () => ({
      baseUrl,
      getToken,
      fetchMedia: fetchMedia ?? (async (url: string) => fetchMediaUrl(url, await getToken(), baseUrl)),
    }),
    [baseUrl, getToken, fetchMedia],
  );
  return <ChatEnvContext.Provider value={value}>{children}</ChatEnvContext.Provider>;
}

export function useChatEnv(): ChatEnv {
  const env = useContext(ChatEnvContext);
  if (!env) throw new Error('useChatEnv: wrap the chat in <ChatEnvProvider>');
  return env;
}
