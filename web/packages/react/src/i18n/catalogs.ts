// The components' catalogs, each loaded when its language is first asked for (a chunk of its
// own in the app's build), with the date-fns locale that goes with it. English needs no load:
// the English texts are the messages' defaults in the code (locales/en.json is the same text,
// kept for translators and checked to match, see scripts/check-i18n.mjs).
import type { MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import type { Locale as DateLocale } from 'date-fns';
import { enUS } from 'date-fns/locale/en-US';
import type { ChatLocale } from './locales';
import { pseudoCatalog } from './pseudo';

/** Message id → ICU message text (or, for the pseudo-locale, the parsed message). */
export type ChatMessages = Record<string, string> | Record<string, MessageFormatElement[]>;

export interface LoadedCatalog {
  messages: ChatMessages;
  dateLocale: DateLocale;
}

const ENGLISH: LoadedCatalog = { messages: {}, dateLocale: enUS };

const LOADERS: Record<ChatLocale, () => Promise<LoadedCatalog>> = {
  en: async () => ENGLISH,
  de: async () => {
    const [m, d] = await Promise.all([import('../locales/de.json'), import('date-fns/locale/de')]);
    return { messages: m.default, dateLocale: d.de };
  },
  ar: async () => {
    const [m, d] = await Promise.all([import('../locales/ar.json'), import('date-fns/locale/ar')]);
    return { messages: m.default, dateLocale: d.ar };
  },
  'en-XA': async () => ({ messages: pseudoCatalog((await import('../locales/en.json')).default), dateLocale: enUS }),
};

const loaded = new Map<ChatLocale, LoadedCatalog>([['en', ENGLISH]]);
const loading = new Map<ChatLocale, Promise<LoadedCatalog>>();

/** The catalog if it is loaded already (English always is). */
export function loadedCatalog(locale: ChatLocale): LoadedCatalog | undefined {
  return loaded.get(locale);
}

/** Load (once) the components' catalog and date-fns locale for `locale`. */
export function loadCatalog(locale: ChatLocale): Promise<LoadedCatalog> {
  const done = loaded.get(locale);
  if (done) return Promise.resolve(done);
  let p = loading.get(locale);
  if (!p) {
    p = LOADERS[locale]().then(
      (c) => {
        loaded.set(locale, c);
        loading.delete(locale);
        return c;
      },
      (err: unknown) => {
        loading.delete(locale);
        throw err;
      },
    );
    loading.set(locale, p);
  }
  return p;
}

/**
 * The components' messages for `locale`, for a host app that formats them with its own
 * react-intl provider (merge them into its messages), e.g. `errorText` in its own pages.
 */
export async function loadChatMessages(locale: ChatLocale): Promise<ChatMessages> {
  return (await loadCatalog(locale)).messages;
}
