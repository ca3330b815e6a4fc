// The demo's language: the switcher's choice (`?lang=` or the one saved), then the JWT claim
// `locale` of the signed-in user, then the browser's languages, then English (SPEC §9.5). The
// demo's own texts and the components' are loaded together for that language; the chat
// components get the same locale through ChatEnvProvider.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { IntlProvider } from 'react-intl';
import { browserLocales, loadChatMessages, localeDirection, matchLocale, pseudoCatalog, resolveLocale, type ChatLocale, type ChatMessages } from '@omw-chat/react';

const STORAGE_KEY = 'omw_demo_locale';

async function loadDemoMessages(locale: ChatLocale): Promise<ChatMessages> {
  switch (locale) {
    case 'de':
      return (await import('./locales/de.json')).default;
    case 'ar':
      return (await import('./locales/ar.json')).default;
    case 'en-XA':
      return pseudoCatalog((await import('./locales/en.json')).default);
    default:
      return {}; // English: the defaults in the code (locales/en.json holds the same text)
  }
}

/** The saved or `?lang=` choice (a `?lang=` is saved, so links keep the language). */
function initialChoice(): ChatLocale | null {
  const fromUrl = matchLocale(new URLSearchParams(window.location.search).get('lang'));
  try {
    if (fromUrl) localStorage.setItem(STORAGE_KEY, fromUrl);
    return fromUrl ?? matchLocale(localStorage.getItem(STORAGE_KEY));
  } catch {
    return fromUrl;
  }
}

interface DemoLocale {
  locale: ChatLocale;
  dir: 'ltr' | 'rtl';
  /** The switcher's choice; null: automatic (token claim, browser). */
  choice: ChatLocale | null;
  setChoice: (l: ChatLocale | null) => void;
  /** The signed-in user's JWT `locale` claim. */
  setTokenLocale: (l: string | null) => void;
}

const Ctx = createContext<DemoLocale | null>(null);

export function useDemoLocale(): DemoLocale {
  const v = useContext(Ctx);
  if (!v) throw new Error('useDemoLocale outside DemoI18nProvider');
  return v;
}

export function DemoI18nProvider({ children }: { children: ReactNode }) {
  const [choice, setChoiceState] = useState<ChatLocale | null>(initialChoice);
  const [tokenLocale, setTokenLocale] = useState<string | null>(null);
  const locale = resolveLocale(choice, tokenLocale, browserLocales());
  const [loaded, setLoaded] = useState<{ locale: ChatLocale; messages: ChatMessages } | null>(null);

  useEffect(() => {
    let alive = true;
    Promise.all([loadChatMessages(locale), loadDemoMessages(locale)]).then(
      ([chat, demo]) => alive && setLoaded({ locale, messages: { ...chat, ...demo } as ChatMessages }),
      (err: unknown) => console.error('[demo] catalog did not load', err),
    );
    return () => {
      alive = false;
    };
  }, [locale]);

  const shown = loaded?.locale;
  useEffect(() => {
    if (!shown) return;
    document.documentElement.lang = shown;
    document.documentElement.dir = localeDirection(shown);
  }, [shown]);

  const setChoice = useCallback((l: ChatLocale | null) => {
    setChoiceState(l);
    try {
      if (l) localStorage.setItem(STORAGE_KEY, l);
      else localStorage.removeItem(STORAGE_KEY);
    } catch {
      // storage unavailable: the choice lasts for this page
    }
  }, []);

  const value = useMemo<DemoLocale | null>(
    () => (shown ? { locale: shown, dir: localeDirection(shown), choice, setChoice, setTokenLocale } : null),
    [shown, choice, setChoice],
  );
  if (!loaded || !value) return null;
  return (
    <Ctx.Provider value={value}>
      <IntlProvider locale={loaded.locale} defaultLocale="en" messages={loaded.messages}>
        {children}
      </IntlProvider>
    </Ctx.Provider>
  );
}
