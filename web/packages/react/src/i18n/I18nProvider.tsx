import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { createIntl, createIntlCache, type IntlShape } from 'react-intl';
import createCache, { type EmotionCache } from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import { ThemeProvider, createTheme, useTheme, type Theme } from '@mui/material/styles';
import { prefixer } from 'stylis';
import rtlPlugin from 'stylis-plugin-rtl';
import type { Locale as DateLocale } from 'date-fns';
import { loadCatalog, loadedCatalog, type ChatMessages } from './catalogs';
import { DEFAULT_LOCALE, PSEUDO_LOCALE, browserLocales, localeDirection, resolveLocale, type ChatLocale } from './locales';

/** What the components format their text with: the locale, its direction, react-intl, date-fns. */
export interface ChatI18n {
  locale: ChatLocale;
  dir: 'ltr' | 'rtl';
  intl: IntlShape;
  /** date-fns locale for day names and relative times. */
  dateLocale: DateLocale;
  /** The pseudo-locale: text the catalogs do not hold (dates) is pseudo-localized too. */
  pseudo: boolean;
}

const cache = createIntlCache();

function makeI18n(locale: ChatLocale, messages: ChatMessages, dateLocale: DateLocale, extra?: Record<string, string>): ChatI18n {
  const intl = createIntl(
    {
      locale,
      defaultLocale: DEFAULT_LOCALE,
      messages: extra ? ({ ...messages, ...extra } as ChatMessages) : messages,
      // A missing translation shows the English default; say so in development, quietly.
      onError: (err) => {
        if (err.code !== 'MISSING_TRANSLATION') console.error(err);
        else console.debug(`[omw-chat] ${err.message}`);
      },
    },
    cache,
  );
  return { locale, dir: localeDirection(locale), intl, dateLocale, pseudo: locale === PSEUDO_LOCALE };
}

const ENGLISH = makeI18n(DEFAULT_LOCALE, {}, loadedCatalog(DEFAULT_LOCALE)!.dateLocale);
const ChatI18nContext = createContext<ChatI18n | null>(null);

/** The chat's language; English when no provider is above (a component used on its own). */
export function useChatI18n(): ChatI18n {
  return useContext(ChatI18nContext) ?? ENGLISH;
}

/** The enclosing provider's language, or null without one. */
export function useOuterChatI18n(): ChatI18n | null {
  return useContext(ChatI18nContext);
}

const rtlCache: EmotionCache = createCache({ key: 'omw-rtl', stylisPlugins: [prefixer, rtlPlugin] });
const ltrCache: EmotionCache = createCache({ key: 'omw-ltr' });

/**
 * MUI styles for the chat's direction. When the app's theme already has it (an Arabic app set up
 * for RTL, or any left-to-right app showing a left-to-right chat), nothing is added; otherwise
 * the subtree gets its own theme direction and an Emotion cache that flips (or does not flip)
 * left and right.
 */
function Direction({ dir, children }: { dir: 'ltr' | 'rtl'; children: ReactNode }) {
  const outer = useTheme<Theme>();
  const same = (outer.direction ?? 'ltr') === dir;
  const theme = useMemo(() => (same ? null : createTheme({ ...outer, direction: dir })), [same, outer, dir]);
  if (!theme) return <>{children}</>;
  return (
    <CacheProvider value={dir === 'rtl' ? rtlCache : ltrCache}>
      <ThemeProvider theme={theme}>{children}</ThemeProvider>
    </CacheProvider>
  );
}

export interface ChatIntlProviderProps {
  /**
   * A BCP 47 tag (`de`, `ar-EG`, `en-XA` for the pseudo-locale). Unset or unsupported: the next
   * of `fallbackLocales`, then the browser's languages, then English.
   */
  locale?: string | null;
  /** Tags to try after `locale` and before the browser (the JWT's `locale` claim). */
  fallbackLocales?: ReadonlyArray<string | null | undefined>;
  /** The host's own texts for some message ids (merged over the shipped catalog). */
  messages?: Record<string, string>;
  children: ReactNode;
}

/**
 * The chat's language for everything inside: loads the catalog (children wait for it, so no
 * English flashes before German), and for Arabic lays the components out right to left.
 */
export function ChatIntlProvider({ locale, fallbackLocales = [], messages, children }: ChatIntlProviderProps) {
  const resolved = resolveLocale(locale, ...fallbackLocales, browserLocales());
  const [catalog, setCatalog] = useState(() => ({ locale: resolved, loaded: loadedCatalog(resolved) }));
  useEffect(() => {
    let alive = true;
    loadCatalog(resolved).then(
      (loaded) => alive && setCatalog({ locale: resolved, loaded }),
      (err: unknown) => {
        console.error(`[omw-chat] the ${resolved} catalog did not load`, err);
        if (alive) setCatalog({ locale: DEFAULT_LOCALE, loaded: loadedCatalog(DEFAULT_LOCALE) });
      },
    );
    return () => {
      alive = false;
    };
  }, [resolved]);
  // A language loaded before is there at once; while another loads, the previous one stays
  // (a switch does not blank the chat); the very first load renders nothing for a moment.
  const cached = loadedCatalog(resolved);
  const current = cached ? { locale: resolved, loaded: cached } : catalog.loaded ? catalog : null;
  const currentLocale = current?.locale;
  const currentCatalog = current?.loaded;
  const value = useMemo(
    () => (currentLocale && currentCatalog ? makeI18n(currentLocale, currentCatalog.messages, currentCatalog.dateLocale, messages) : null),
    [currentLocale, currentCatalog, messages],
  );
  if (!value) return null;
  return (
    <ChatI18nContext.Provider value={value}>
      <Direction dir={value.dir}>{children}</Direction>
    </ChatI18nContext.Provider>
  );
}
