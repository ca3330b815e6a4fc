// "Translate" under a received message: the browser's on-device Translator API (with its
// LanguageDetector for the source language). The text never leaves the device, and the server
// never sees the result. Shown only where the browser has both APIs.
import { useEffect, useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Typography from '@mui/material/Typography';
import TranslateIcon from '@mui/icons-material/Translate';
import { defineMessages } from './i18n/define';
import { useChatI18n } from './i18n/I18nProvider';
import { PSEUDO_LOCALE } from './i18n/locales';

interface TranslatorLike {
  translate(text: string): Promise<string>;
  destroy?(): void;
}
interface TranslatorApi {
  availability(o: { sourceLanguage: string; targetLanguage: string }): Promise<string>;
  create(o: { sourceLanguage: string; targetLanguage: string }): Promise<TranslatorLike>;
}
interface DetectorApi {
  availability?(): Promise<string>;
  create(): Promise<{ detect(text: string): Promise<Array<{ detectedLanguage?: string; confidence?: number }>>; destroy?(): void }>;
}

function apis(): { Translator: TranslatorApi; LanguageDetector: DetectorApi } | null {
  const g = globalThis as { Translator?: Partial<TranslatorApi>; LanguageDetector?: Partial<DetectorApi> };
  const T = g.Translator;
  const D = g.LanguageDetector;
  if (typeof T?.create !== 'function' || typeof T.availability !== 'function' || typeof D?.create !== 'function') return null;
  return { Translator: T as TranslatorApi, LanguageDetector: D as DetectorApi };
}

/** Does this browser have the on-device Translator and LanguageDetector APIs? */
export function onDeviceTranslationSupported(): boolean {
  return apis() !== null;
}

let probe: Promise<boolean> | null = null;

/**
 * Can this browser translate here and now: both APIs, and a language detector that is not
 * `unavailable` (a browser may have the APIs but no model, as headless Chromium does).
 */
export function onDeviceTranslationAvailable(): Promise<boolean> {
  const a = apis();
  if (!a) return Promise.resolve(false);
  probe ??= Promise.resolve()
    .then(() => a.LanguageDetector.availability?.() ?? 'available')
    .then(
      (s) => s !== 'unavailable',
      () => false,
    );
  return probe;
}

function useAvailable(): boolean {
  const [ok, setOk] = useState(false);
  useEffect(() => {
    let alive = true;
    void onDeviceTranslationAvailable().then((v) => alive && setOk(v));
    return () => {
      alive = false;
    };
  }, []);
  return ok;
}

const base = (tag: string) => tag.toLowerCase().split('-')[0] ?? tag;

/**
 * `text` in `target` on this device: the source language detected first. Resolves with null
 * when the text already is in `target`; rejects when the pair is not available here.
 */
export async function translateOnDevice(text: string, target: string): Promise<string | null> {
  const a = apis();
  if (!a) throw new Error('unsupported');
  const detector = await a.LanguageDetector.create();
  const [best] = await detector.detect(text);
  detector.destroy?.();
  const source = best?.detectedLanguage;
  if (!source || source === 'und') throw new Error('undetected');
  if (base(source) === base(target)) return null;
  const pair = { sourceLanguage: source, targetLanguage: target };
  if ((await a.Translator.availability(pair)) === 'unavailable') throw new Error('unavailable');
  const translator = await a.Translator.create(pair);
  try {
    return await translator.translate(text);
  } finally {
    translator.destroy?.();
  }
}

const m = defineMessages({
  translate: { id: 'translate.button', defaultMessage: 'Translate' },
  translating: { id: 'translate.working', defaultMessage: 'Translating…' },
  note: { id: 'translate.note', defaultMessage: 'Translated on this device' },
  hide: { id: 'translate.hide', defaultMessage: 'Hide translation' },
  same: { id: 'translate.same_language', defaultMessage: 'This message is already in your language.' },
  failed: { id: 'translate.failed', defaultMessage: 'This message cannot be translated on this device.' },
});

type State = { s: 'idle' } | { s: 'working' } | { s: 'done'; text: string } | { s: 'same' } | { s: 'failed' };

export function TranslateButton({ text }: { text: string }) {
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const [state, setState] = useState<State>({ s: 'idle' });
  const available = useAvailable();
  if (!available) return null;
  const target = i18n.locale === PSEUDO_LOCALE ? 'en' : i18n.locale;
  const run = () => {
    setState({ s: 'working' });
    translateOnDevice(text, target).then(
      (out) => setState(out === null ? { s: 'same' } : { s: 'done', text: out }),
      () => setState({ s: 'failed' }),
    );
  };
  if (state.s === 'done') {
    return (
      <Box data-testid="translation" sx={{ borderTop: 1, borderColor: 'divider', pt: 0.5 }}>
        <Typography variant="body2" dir="auto" lang={target} sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
          {state.text}
        </Typography>
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1 }}>
          <Typography variant="caption" color="text.secondary">
            {t(m.note)}
          </Typography>
          <Button size="small" color="inherit" onClick={() => setState({ s: 'idle' })} sx={{ minWidth: 0, p: 0, fontSize: 11 }}>
            {t(m.hide)}
          </Button>
        </Box>
      </Box>
    );
  }
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, flexWrap: 'wrap' }}>
      <Button
        size="small"
        color="inherit"
        startIcon={state.s === 'working' ? <CircularProgress size={12} color="inherit" /> : <TranslateIcon sx={{ fontSize: 14 }} />}
        disabled={state.s === 'working'}
        onClick={run}
        data-testid="translate-button"
        sx={{ minWidth: 0, p: 0, fontSize: 11, textTransform: 'none', opacity: 0.85 }}
      >
        {state.s === 'working' ? t(m.translating) : t(m.translate)}
      </Button>
      {(state.s === 'same' || state.s === 'failed') && (
        <Typography variant="caption" color="text.secondary" role="status">
          {t(state.s === 'same' ? m.same : m.failed)}
        </Typography>
      )}
    </Box>
  );
}
