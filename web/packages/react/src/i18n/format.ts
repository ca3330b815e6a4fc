// Dates and times in the reader's language: times with Intl (through react-intl), day names and
// relative times with date-fns and its locale.
import { format, formatDistanceToNow, isToday, isYesterday } from 'date-fns';
import { defineMessages } from './define';
import type { ChatI18n } from './I18nProvider';
import { pseudoText } from './pseudoText';

const m = defineMessages({
  today: { id: 'date.today', defaultMessage: 'Today' },
  yesterday: { id: 'date.yesterday', defaultMessage: 'Yesterday' },
});

/** Text that did not come from a catalog, marked in the pseudo-locale like translated text. */
function localized(i18n: ChatI18n, text: string): string {
  return i18n.pseudo ? pseudoText(text) : text;
}

/** 14:05, 2:05 PM, ٢:٠٥ م — the locale's own clock (24 h in the pseudo-locale: no "PM"). */
export function timeOfDay(i18n: ChatI18n, when: Date | string): string {
  return i18n.intl.formatTime(when, { hour: 'numeric', minute: '2-digit', ...(i18n.pseudo ? { hourCycle: 'h23' as const } : {}) });
}

/** The day separator: Today, Yesterday, or the full date ("Montag, 5. Januar 2026"). */
export function dayLabel(i18n: ChatI18n, d: Date): string {
  if (isToday(d)) return i18n.intl.formatMessage(m.today);
  if (isYesterday(d)) return i18n.intl.formatMessage(m.yesterday);
  return localized(i18n, format(d, 'PPPP', { locale: i18n.dateLocale }));
}

/** "5 minutes ago", "vor 5 Minuten", "منذ 5 دقائق". */
export function timeAgo(i18n: ChatI18n, when: Date): string {
  return localized(i18n, formatDistanceToNow(when, { addSuffix: true, locale: i18n.dateLocale }));
}

/** A file size with the locale's digits and separators (Intl units): 2.0 kB, 2,0 kB. */
export function fileSize(i18n: ChatI18n, bytes: number): string {
  const n = (value: number, unit: string, digits: number) =>
    i18n.intl.formatNumber(value, { style: 'unit', unit, unitDisplay: 'short', minimumFractionDigits: digits, maximumFractionDigits: digits });
  const text =
    bytes < 1024
      ? n(bytes, 'byte', 0)
      : bytes < 1024 * 1024
        ? n(bytes / 1024, 'kilobyte', bytes < 10 * 1024 ? 1 : 0)
        : n(bytes / (1024 * 1024), 'megabyte', bytes % (1024 * 1024) === 0 ? 0 : 1);
  return localized(i18n, text);
}
