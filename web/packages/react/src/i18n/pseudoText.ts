// The pseudo-locale's character map, shared by the catalog transform (pseudo.ts) and by text the
// catalogs do not hold (dates that date-fns writes in English for the pseudo-locale).

const ACCENTED: Record<string, string> = Object.fromEntries(
  [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].map((ch, i) => [ch, [...'áƀçđéƒĝĥíĵķĺɱñóþǫŕšţúṽŵẋýžÁƁÇĐÉƑĜĤÍĴĶĹṀÑÓÞǪŔŠŢÚṼŴẊÝŽ'][i]!]),
);

/** The brackets around every pseudo-localized message: text outside them was not translated. */
export const PSEUDO_OPEN = '⟦';
export const PSEUDO_CLOSE = '⟧';

/** Latin letters accented, vowels doubled now and then (about a third longer, as German is). */
export function pseudoLetters(text: string): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    out += ACCENTED[ch] ?? ch;
    if (/[aeiouAEIOU]/.test(ch) && n++ % 2 === 0) out += ACCENTED[ch] ?? ch;
  }
  return out;
}

/** A whole text pseudo-localized and bracketed. */
export function pseudoText(text: string): string {
  return `${PSEUDO_OPEN}${pseudoLetters(text)}${PSEUDO_CLOSE}`;
}
