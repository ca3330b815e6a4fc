// Languages in the browser (SPEC §9.5): the pseudo-locale shows no untranslated text anywhere,
// and one chat is German for the worker and Arabic (right to left) for the customer, on phones.
//
// System messages come from the server's `message.system` ({ code, params }): the web client
// renders them in each reader's language.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DESKTOP, PHONE, assertNoPageErrors, demo, expectOneBubble, fixture, horizontalOverflow, openChat, screenshot, sendText, tid, waitUntil } from './lib/harness.mjs';

const f = fixture();

/**
 * Visible text and accessible names that are not inside pseudo-locale brackets ⟦…⟧, once the
 * `allowed` data (names, ids, the messages people typed) is taken out. The language menu's
 * options (each language in its own name) are not part of the page's text.
 */
function untranslated(page, allowed) {
  return page.evaluate((allowed) => {
    const strip = (s) => {
      let prev;
      do {
        prev = s;
        s = s.replace(/⟦[^⟦⟧]*⟧/g, ' ');
      } while (s !== prev);
      for (const a of allowed) s = s.split(a).join(' ');
      return s;
    };
    const selects = [...document.querySelectorAll('select')];
    for (const s of selects) s.style.display = 'none';
    const text = document.body.innerText;
    for (const s of selects) s.style.display = '';
    const names = [...document.querySelectorAll('[aria-label], [placeholder], [title], img[alt]')]
      .filter((el) => !el.closest('select') && el.checkVisibility())
      .flatMap((el) => ['aria-label', 'placeholder', 'title', 'alt'].map((a) => el.getAttribute(a)).filter(Boolean));
    return [...text.split('\n'), ...names].map(strip).map((s) => s.trim()).filter((s) => /\p{L}{2,}/u.test(s));
  }, allowed);
}

describe('languages', () => {
  before(() => f.setup());
  after(() => f.teardown());

  test(
    'pseudo-locale: no untranslated text on either page or in the chat',
    f.scenario('pseudo locale', async () => {
      const opts = { locale: 'en-US', query: '?lang=en-XA' };
      const c = await f.party('customer', DESKTOP, opts);
      const w = await f.party('worker', DESKTOP, opts);
      const { booking } = await demo(f.server.url, 'GET', '/demo/api/booking');
      await openChat(c);
      await openChat(w);
      await sendText(c.page, 'Hello from Alice');
      await expectOneBubble(w.page, 'Hello from Alice');
      await sendText(w.page, 'Hi, Bob here');
      await expectOneBubble(c.page, 'Hi, Bob here');
      const allowed = ['Hello from Alice', 'Hi, Bob here', booking.customer.name, booking.worker.name, booking.id];
      for (const p of [c, w]) {
        await waitUntil(() => p.page.locator(tid('online-status')).isVisible(), `${p.role}: header status`);
        assert.equal(await p.page.locator('html').getAttribute('lang'), 'en-XA');
        assert.deepEqual(await untranslated(p.page, allowed), [], `${p.role}: untranslated text`);
      }
      await screenshot(c.page, 'i18n-pseudo-customer-desktop.png');
      await screenshot(w.page, 'i18n-pseudo-worker-desktop.png');
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    'worker in German, customer in Arabic (right to left) at 375 px: texts, system messages, dates',
    f.scenario('german and arabic', async () => {
      // The browser's language decides (the demo's tokens carry no `locale` claim).
      const w = await f.party('worker', PHONE, { locale: 'de-DE' });
      const c = await f.party('customer', PHONE, { locale: 'ar' });
      assert.equal(await w.page.locator('html').getAttribute('lang'), 'de');
      assert.deepEqual([await c.page.locator('html').getAttribute('lang'), await c.page.locator('html').getAttribute('dir')], ['ar', 'rtl']);
      await waitUntil(async () => (await w.page.locator(tid('booking-status')).textContent()) === 'Angenommen', 'worker: German status');
      await waitUntil(async () => (await c.page.locator(tid('booking-status')).textContent()) === 'مقبول', 'customer: Arabic status');
      await screenshot(c.page, 'i18n-customer-ar-phone.png');
      await screenshot(w.page, 'i18n-worker-de-phone.png');

      await openChat(c);
      await openChat(w);
      await demo(f.server.url, 'POST', '/demo/api/booking/status', { status: 'en_route' });
      const system = (p) => p.page.locator(`${tid('message-bubble')}[data-kind="system"]`);
      await waitUntil(async () => (await system(w).allTextContents()).some((t) => t.includes('Bob Worker ist unterwegs')), 'worker: German system message');
      await waitUntil(async () => (await system(c).allTextContents()).some((t) => t.includes('Bob Worker في الطريق إليك')), 'customer: Arabic system message');
      assert.match(await system(w).first().textContent(), /^Bob Worker hat die Buchung angenommen/, 'worker: the opening message in German');
      assert.match(await system(c).first().textContent(), /^قبل Bob Worker الحجز/, 'customer: the opening message in Arabic');

      await sendText(c.page, 'مرحبا، متى تصل؟');
      await expectOneBubble(w.page, 'مرحبا، متى تصل؟');
      await sendText(w.page, 'Ich bin in 10 Minuten da.');
      await expectOneBubble(c.page, 'Ich bin in 10 Minuten da.');

      // Each reader's dates: the day separator and the header.
      assert.equal(await w.page.locator(tid('day-separator')).first().textContent(), 'Heute');
      assert.equal(await c.page.locator(tid('day-separator')).first().textContent(), 'اليوم');
      await waitUntil(async () => (await w.page.locator(tid('online-status')).textContent()) === 'Online', 'worker: Online');
      await waitUntil(async () => (await c.page.locator(tid('online-status')).textContent()) === 'متصل', 'customer: متصل');
      assert.equal(await w.page.locator(tid('chat-input')).getAttribute('placeholder'), 'Nachricht schreiben…');
      assert.equal(await c.page.locator(tid('chat-input')).getAttribute('placeholder'), 'اكتب رسالة…');

      // Right to left: the customer's own message on the left, the worker's on the right, the
      // close button at the left edge; left to right for the worker.
      const box = async (p, sel) => (await p.page.locator(sel).last().boundingBox()) ?? assert.fail(`${p.role}: no ${sel}`);
      const bubbleBox = async (p, text) => box(p, `${tid('message-bubble')}:has-text("${text}") > div`);
      assert.equal(await c.page.locator(tid('chat-window')).getAttribute('dir'), 'rtl');
      const cOwn = await bubbleBox(c, 'مرحبا');
      const cTheirs = await bubbleBox(c, 'Ich bin in 10');
      assert.ok(cOwn.x < 40 && cTheirs.x + cTheirs.width > PHONE.width - 40, `customer (rtl): own left, theirs right (${JSON.stringify({ cOwn, cTheirs })})`);
      assert.ok((await box(c, tid('chat-close'))).x < 60, 'customer (rtl): close button on the left');
      const wOwn = await bubbleBox(w, 'Ich bin in 10');
      const wTheirs = await bubbleBox(w, 'مرحبا');
      assert.ok(wOwn.x + wOwn.width > PHONE.width - 40 && wTheirs.x < 40, `worker (ltr): own right, theirs left (${JSON.stringify({ wOwn, wTheirs })})`);
      for (const p of [c, w]) assert.deepEqual(await horizontalOverflow(p.page), [], `${p.role}: overflows`);
      // The browser here has no on-device Translator API: the button is not offered.
      assert.equal(await c.page.locator(tid('translate-button')).count(), 0);

      await screenshot(c.page, 'i18n-customer-chat-ar-phone.png');
      await screenshot(w.page, 'i18n-worker-chat-de-phone.png');
      assertNoPageErrors([c, w]);
    }),
  );
});
