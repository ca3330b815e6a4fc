import { describe, expect, test, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { ChatClient, tokenLocale, type ErrorCode } from '@omw-chat/client';
import { FakeServer, ME, OTHER } from '../../../../test/fakeServer';
import { ChatEnvProvider } from '../context';
import { ChatHeader } from '../ChatHeader';
import { ChatWindow } from '../ChatWindow';
import { MessageBubble, type BubbleMessage } from '../MessageBubble';
import { loadCatalog } from './catalogs';
import { errorText, KNOWN_ERROR_CODES } from './errors';
import { ChatIntlProvider, useChatI18n } from './I18nProvider';
import { localeDirection, matchLocale, resolveLocale } from './locales';
import { pseudoCatalog } from './pseudo';
import { systemText } from './system';
import en from '../locales/en.json';

const fetchMedia = vi.fn(async (url: string) => `blob:test${url}`);

/** A JWT with these claims (unsigned: the client only reads them). */
function jwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(o)))).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.sig`;
}

function Env({ locale, token = 'token', children }: { locale?: string; token?: string; children: ReactNode }) {
  return (
    <ChatEnvProvider getToken={() => token} fetchMedia={fetchMedia} locale={locale}>
      {children}
    </ChatEnvProvider>
  );
}

/** The intl of a loaded locale, for the pure formatting functions. */
async function intlFor(locale: 'en' | 'de' | 'ar' | 'en-XA') {
  await loadCatalog(locale);
  let intl!: ReturnType<typeof useChatI18n>;
  const Grab = () => {
    intl = useChatI18n();
    return null;
  };
  render(
    <ChatIntlProvider locale={locale}>
      <Grab />
    </ChatIntlProvider>,
  );
  await waitFor(() => expect(intl?.locale).toBe(locale));
  return intl;
}

const system = (over: Partial<BubbleMessage>): BubbleMessage => ({
  key: 's',
  seq: 3,
  kind: 'system',
  body: 'Bob is on the way',
  attachment: null,
  sender: { id: 'system', name: 'OMW', role: 'system' },
  created_at: '2025-01-01T12:34:00.000Z',
  ...over,
});

describe('locale resolution: explicit, then the JWT claim, then the browser, then English', () => {
  test('the first candidate that is supported wins', () => {
    expect(resolveLocale('de', 'ar', ['en-US'])).toBe('de');
    expect(resolveLocale(null, 'ar-EG', ['de-DE'])).toBe('ar');
    expect(resolveLocale(undefined, null, ['fr-FR', 'de-AT', 'en'])).toBe('de');
    expect(resolveLocale('xx', 'tlh', ['fr', 'ja'])).toBe('en');
    expect(resolveLocale()).toBe('en');
  });

  test('tags match by language; the pseudo-locale only exactly', () => {
    expect(matchLocale('de_CH')).toBe('de');
    expect(matchLocale('AR')).toBe('ar');
    expect(matchLocale('en-XA')).toBe('en-XA');
    expect(matchLocale('en-GB')).toBe('en');
    expect(matchLocale('')).toBeNull();
  });

  test('the JWT claim `locale` is read from the token', () => {
    expect(tokenLocale(jwt({ sub: 'u1', locale: 'ar-EG', name: 'Ünal' }))).toBe('ar-EG');
    expect(tokenLocale(jwt({ sub: 'u1' }))).toBeNull();
    expect(tokenLocale('not a jwt')).toBeNull();
  });

  test('ChatEnvProvider: the token claim beats the browser; an explicit locale beats the claim', async () => {
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['de-DE']);
    const { unmount } = render(
      <Env token={jwt({ sub: 'u1', locale: 'ar' })}>
        <ChatHeader name="Bob" role="worker" online lastSeen={null} typing={false} />
      </Env>,
    );
    expect(await screen.findByTestId('online-status')).toHaveTextContent('متصل');
    unmount();
    render(
      <Env token={jwt({ sub: 'u1' })}>
        <ChatHeader name="Bob" role="worker" online lastSeen={null} typing={false} />
      </Env>,
    );
    await waitFor(() => expect(screen.getByTestId('online-status')).toHaveTextContent('Online'));
    expect(screen.getByText(/Dienstleister/)).toBeInTheDocument();
  });
});

describe('plural forms (ICU, CLDR rules)', () => {
  test('Arabic has six forms, German and English two', async () => {
    const ar = await intlFor('ar');
    const arText = (n: number) => ar.intl.formatMessage({ id: 'chat.unread_marker' }, { count: n });
    expect([0, 1, 2, 3, 11, 100].map(arText)).toEqual([
      'لا رسائل غير مقروءة',
      'رسالة واحدة غير مقروءة',
      'رسالتان غير مقروءتين',
      '3 رسائل غير مقروءة',
      '11 رسالة غير مقروءة',
      '100 رسالة غير مقروءة',
    ]);
    const de = await intlFor('de');
    expect(de.intl.formatMessage({ id: 'chat.unread_marker' }, { count: 1 })).toBe('1 ungelesene Nachricht');
    expect(de.intl.formatMessage({ id: 'chat.unread_marker' }, { count: 5 })).toBe('5 ungelesene Nachrichten');
    const english = await intlFor('en');
    expect(english.intl.formatMessage({ id: 'chat.unread_marker', defaultMessage: en['chat.unread_marker'] }, { count: 1 })).toBe('1 unread message');
  });

  test('a rate limit says how long to wait, in the plural the language needs', async () => {
    const de = await intlFor('de');
    expect(errorText(de.intl, { code: 'rate_limited', retry_after_ms: 1000 })).toContain('in 1 Sekunde erneut');
    expect(errorText(de.intl, { code: 'rate_limited', params: { retry_after_ms: 2500 } })).toContain('in 3 Sekunden erneut');
    const ar = await intlFor('ar');
    expect(errorText(ar.intl, { code: 'rate_limited', retry_after_ms: 2000 })).toContain('ثانيتين');
  });
});

describe('right to left', () => {
  test('Arabic lays the chat out right to left with flipped styles; German left to right', async () => {
    expect(localeDirection('ar-EG')).toBe('rtl');
    expect(localeDirection('de')).toBe('ltr');
    const server = new FakeServer();
    server.add('hello');
    const client = new ChatClient({ user: ME, getToken: () => 'token', socketFactory: () => server.socket() });
    client.connect();
    await act(async () => {
      await client.join({ chat_id: 'chat1' });
    });
    const { unmount } = render(
      <Env locale="ar">
        <ChatWindow client={client} chatId="chat1" />
      </Env>,
    );
    const win = await screen.findByTestId('chat-window');
    expect(win).toHaveAttribute('dir', 'rtl');
    expect(win).toHaveAttribute('lang', 'ar');
    expect(screen.getByRole('textbox', { name: 'الرسالة' })).toBeInTheDocument();
    // MUI's styles went through the right-to-left Emotion cache (stylis-plugin-rtl).
    expect(document.querySelector('style[data-emotion^="omw-rtl"]')).not.toBeNull();
    unmount();
    render(
      <Env locale="ar">
        <ChatWindow client={client} chatId="chat1" locale="de" />
      </Env>,
    );
    expect(await screen.findByRole('textbox', { name: 'Nachricht' })).toBeInTheDocument();
    expect(screen.getByTestId('chat-window')).toHaveAttribute('dir', 'ltr');
    client.close();
  });
});

describe('errors: translated from the code, never from the English message', () => {
  const codes: ErrorCode[] = [
    'unauthorized',
    'forbidden',
    'not_found',
    'chat_closed',
    'rate_limited',
    'invalid_payload',
    'payload_too_large',
    'unsupported_media_type',
    'conflict',
    'unavailable',
    'internal',
    'timeout',
    'disconnected',
    'network',
  ];

  test('every SPEC §4 code and the client-side ones have a text in every language', async () => {
    expect([...KNOWN_ERROR_CODES].sort()).toEqual([...codes].sort());
    const english = await intlFor('en');
    for (const locale of ['de', 'ar'] as const) {
      const i = await intlFor(locale);
      for (const code of codes) {
        const text = errorText(i.intl, { code, message: 'ENGLISH SERVER MESSAGE' } as never);
        expect(text, `${locale} ${code}`).not.toContain('ENGLISH');
        expect(text, `${locale} ${code}`).not.toBe(errorText(english.intl, { code }));
        expect(text.length).toBeGreaterThan(3);
      }
    }
  });

  test('params fill the text; an unknown code shows itself', async () => {
    const de = await intlFor('de');
    expect(errorText(de.intl, { code: 'payload_too_large', params: { max_bytes: 10 * 1024 * 1024 } })).toBe('Das ist zu groß zum Senden (höchstens 10 MB).');
    expect(errorText(de.intl, { code: 'quota_exceeded' })).toBe('Etwas ist schiefgegangen (Fehler „quota_exceeded“).');
  });
});

describe('system messages: from code + params in the reader’s language, else the English body', () => {
  test('the same message reads German for one reader and Arabic for the other', async () => {
    const msg = system({ system: { code: 'worker_en_route', params: { worker_name: 'Bob' } } });
    const { unmount } = render(
      <Env locale="de">
        <MessageBubble message={msg} own={false} />
      </Env>,
    );
    expect(await screen.findByTestId('message-bubble')).toHaveTextContent('Bob ist unterwegs');
    unmount();
    render(
      <Env locale="ar">
        <MessageBubble message={msg} own={false} />
      </Env>,
    );
    expect(await screen.findByTestId('message-bubble')).toHaveTextContent('Bob في الطريق إليك');
  });

  test('fallbacks: no name → "your provider"; unknown code or none → the body', async () => {
    const de = await intlFor('de');
    expect(systemText(de.intl, { body: 'x', system: { code: 'worker_en_route' } })).toBe('Ihr Dienstleister ist unterwegs');
    expect(systemText(de.intl, { body: 'x', system: { code: 'chat_opened', params: { worker_name: 'Bob' } } })).toMatch(/^Bob hat die Buchung angenommen/);
    expect(systemText(de.intl, { body: 'Call missed', system: { code: 'call_missed', params: {} } })).toBe('Call missed');
    expect(systemText(de.intl, { body: 'Service started' })).toBe('Service started');
    expect(systemText(de.intl, { body: null, system: null })).toBe('');
  });
});

describe('pseudo-locale', () => {
  test('every message accented and bracketed, placeholders and plurals kept', async () => {
    const ps = pseudoCatalog(en);
    expect(Object.keys(ps)).toEqual(Object.keys(en));
    const i = await intlFor('en-XA');
    expect(i.intl.formatMessage({ id: 'header.typing' }, { name: 'Bob' })).toMatch(/^⟦Bob í+š ţýþí+ñĝ…⟧$/);
    expect(i.intl.formatMessage({ id: 'chat.unread_marker' }, { count: 2 })).toMatch(/^⟦2 .*⟧$/);
    expect(i.intl.formatMessage({ id: 'chat.unread_marker' }, { count: 2 })).not.toMatch(/[a-z]{3}/);
  });
});

describe('on-device translation', () => {
  const theirs: BubbleMessage = {
    key: 'k',
    seq: 7,
    kind: 'text',
    body: 'Ich bin gleich da',
    attachment: null,
    sender: { id: OTHER.id, name: OTHER.name, role: 'worker' },
    created_at: '2025-01-01T12:34:00.000Z',
  };

  test('hidden where the browser has no Translator API', async () => {
    render(
      <Env locale="en">
        <MessageBubble message={theirs} own={false} />
      </Env>,
    );
    await act(async () => {
      await Promise.resolve();
    });
    expect(screen.queryByTestId('translate-button')).toBeNull();
  });

  test('translates on the device where it can', async () => {
    const translate = vi.fn(async (t: string) => `[${t}] in English`);
    const create = vi.fn(async () => ({ translate }));
    vi.stubGlobal('Translator', { availability: vi.fn(async () => 'available'), create });
    vi.stubGlobal('LanguageDetector', {
      availability: async () => 'available',
      create: async () => ({ detect: async () => [{ detectedLanguage: 'de', confidence: 0.9 }] }),
    });
    try {
      render(
        <Env locale="en">
          <MessageBubble message={theirs} own={false} />
        </Env>,
      );
      await userEvent.click(await screen.findByTestId('translate-button'));
      expect(await screen.findByTestId('translation')).toHaveTextContent('[Ich bin gleich da] in English');
      expect(create).toHaveBeenCalledWith({ sourceLanguage: 'de', targetLanguage: 'en' });
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
