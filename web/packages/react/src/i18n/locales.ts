// Which language the chat speaks (SPEC §9.5): the host's choice, then the JWT claim `locale`,
// then the browser's languages, then English. Pure functions, tested without a browser.

/** The languages the components ship catalogs for; `en-XA` is the pseudo-locale for testing. */
export const SUPPORTED_LOCALES = ['en', 'de', 'ar', 'en-XA'] as const;
export type ChatLocale = (typeof SUPPORTED_LOCALES)[number];
export const DEFAULT_LOCALE: ChatLocale = 'en';
/** Accented, bracketed, longer English: untranslated text stands out, tight layouts show. */
export const PSEUDO_LOCALE: ChatLocale = 'en-XA';

/** Languages written right to left (the first subtag of a BCP 47 tag). */
const RTL = new Set(['ar', 'he', 'iw', 'fa', 'ur', 'ps', 'sd', 'yi', 'dv', 'ckb', 'ug']);

/**
 * The supported locale a BCP 47 tag stands for: the tag itself, or its language (`de-AT` → `de`,
 * `ar-EG` → `ar`, `en_US` → `en`); the pseudo-locale only by its exact tag. Null when none fits.
 */
export function matchLocale(tag: string | null | undefined): ChatLocale | null {
  if (!tag) return null;
  const t = tag.trim().replace(/_/g, '-').toLowerCase();
  if (!t) return null;
  if (t === PSEUDO_LOCALE.toLowerCase()) return PSEUDO_LOCALE;
  const lang = t.split('-')[0];
  return SUPPORTED_LOCALES.find((l) => l !== PSEUDO_LOCALE && l === lang) ?? null;
}

/**
 * The first candidate that matches a supported locale, in the order given (each candidate a tag
 * or a list of tags, e.g. `navigator.languages`); English when none does.
 *
 *     resolveLocale(props.locale, tokenLocale(token), browserLocales())
 */
export function resolveLocale(...candidates: Array<string | readonly string[] | null | undefined>): ChatLocale {
  for (const c of candidates) {
    for (const tag of typeof c === 'string' ? [c] : (c ?? [])) {
      const m = matchLocale(tag);
      if (m) return m;
    }
  }
  return DEFAULT_LOCALE;
}

/** The browser's preferred languages, best first (empty outside a browser). */
export function browserLocales(): readonly string[] {
  if (typeof navigator === 'undefined') return [];
  if (navigator.languages?.length) return navigator.languages;
  return navigator.language ? [navigator.language] : [];
}

/** `rtl` for Arabic and the other right-to-left scripts, else `ltr`. */
export function localeDirection(locale: string): 'ltr' | 'rtl' {
  return RTL.has(locale.toLowerCase().replace(/_/g, '-').split('-')[0] ?? '') ? 'rtl' : 'ltr';
}
