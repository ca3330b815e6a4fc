import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { fetchMediaUrl, tokenLocale } from '@omw-chat/client';
import { ChatIntlProvider } from './i18n/I18nProvider';
import { PushProvider } from './push/PushProvider';

export interface ChatEnv {
  /** Server origin; empty for the page's own origin. */
  baseUrl: string;
  getToken: () => string | Promise<string>;
  /** Authenticated media → object URL (injectable for tests). */
  fetchMedia: (url: string) => Promise<string>;
}

const ChatEnvContext = createContext<ChatEnv | null>(null);

/** The JWT's `locale` claim (SPEC §9.5), read once per getToken. */
function useTokenLocale(getToken: () => string | Promise<string>, skip: boolean): string | null {
  const [claim, setClaim] = useState<{ from: unknown; locale: string | null } | null>(null);
  useEffect(() => {
    if (skip) return;
    let alive = true;
    Promise.resolve()
      .then(getToken)
      .then(
        (token) => alive && setClaim({ from: getToken, locale: tokenLocale(token) }),
        () => alive && setClaim({ from: getToken, locale: null }),
      );
    return () => {
      alive = false;
    };
  }, [getToken, skip]);
  return claim?.from === getToken ? claim.locale : null;
}

export function ChatEnvProvider({
  baseUrl = '',
  getToken,
  fetchMedia,
  locale,
  messages,
  serviceWorkerUrl,
  children,
}: {
  baseUrl?: string;
  getToken: () => string | Promise<string>;
  fetchMedia?: (url: string) => Promise<string>;
  /**
   * The chat's language (BCP 47: `de`, `ar`, `en-XA` the pseudo-locale). Unset: the token's
   * `locale` claim, then the browser's languages, then English.
   */
  locale?: string | null;
  /** The host's own texts for some message ids, over the shipped catalog. */
  messages?: Record<string, string>;
  /**
   * The service worker that shows push notifications (e.g. `/sw.js`, see web/README.md).
   * Given: the chat offers to turn notifications on. Unset: no offer.
   */
  serviceWorkerUrl?: string;
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
  const claim = useTokenLocale(getToken, Boolean(locale));
  return (
    <ChatEnvContext.Provider value={value}>
      <ChatIntlProvider locale={locale} fallbackLocales={[claim]} messages={messages}>
        {serviceWorkerUrl ? (
          <PushProvider serviceWorkerUrl={serviceWorkerUrl} baseUrl={baseUrl} getToken={getToken}>
            {children}
          </PushProvider>
        ) : (
          children
        )}
      </ChatIntlProvider>
    </ChatEnvContext.Provider>
  );
}

export function useChatEnv(): ChatEnv {
  const env = useContext(ChatEnvContext);
  if (!env) throw new Error('useChatEnv: wrap the chat in <ChatEnvProvider>');
  return env;
}
