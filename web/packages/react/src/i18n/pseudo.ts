// The pseudo-locale catalog (en-XA), made from an English catalog when it is asked for: every
// literal of every message accented, placeholders, plural and select structure kept, and the
// message bracketed ⟦…⟧.
import { parse, TYPE, type MessageFormatElement } from '@formatjs/icu-messageformat-parser';
import { PSEUDO_CLOSE, PSEUDO_OPEN, pseudoLetters } from './pseudoText';

function transform(elements: MessageFormatElement[]): MessageFormatElement[] {
  return elements.map((el) => {
    switch (el.type) {
      case TYPE.literal:
        return { ...el, value: pseudoLetters(el.value) };
      case TYPE.plural:
      case TYPE.select:
        return { ...el, options: Object.fromEntries(Object.entries(el.options).map(([k, o]) => [k, { ...o, value: transform(o.value) }])) };
      case TYPE.tag:
        return { ...el, children: transform(el.children) };
      default:
        return el;
    }
  });
}

/** An English catalog pseudo-localized, as pre-parsed messages (react-intl takes them as they are). */
export function pseudoCatalog(source: Record<string, string>): Record<string, MessageFormatElement[]> {
  return Object.fromEntries(
    Object.entries(source).map(([id, text]) => [
      id,
      [{ type: TYPE.literal, value: PSEUDO_OPEN }, ...transform(parse(text)), { type: TYPE.literal, value: PSEUDO_CLOSE }],
    ]),
  );
}
