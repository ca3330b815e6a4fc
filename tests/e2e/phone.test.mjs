// The core chat flow on a phone (375×812, touch): the chat dialog is full screen, nothing
// overflows sideways, the input's controls do not overlap.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  PHONE,
  assertNoPageErrors,
  bubbles,
  expectOneBubble,
  fixture,
  horizontalOverflow,
  openChat,
  screenshot,
  sendText,
  tid,
  waitFor,
  waitUntil,
} from './lib/harness.mjs';
import { makePng } from './lib/media.mjs';

const f = fixture();

/** Boxes of the input row's controls: inside the viewport and not overlapping each other. */
async function assertInputRowLayout(page, role) {
  const ids = ['attach-button', 'chat-input', 'record-button', 'send-button'];
  const boxes = {};
  for (const id of ids) {
    // The text field's visible box is its InputBase root, not the bare textarea.
    const loc = id === 'chat-input' ? page.locator(`.MuiInputBase-root:has(${tid(id)})`) : page.locator(tid(id));
    boxes[id] = await loc.boundingBox();
    assert.ok(boxes[id], `${role}: ${id} is visible`);
    const b = boxes[id];
    assert.ok(b.x >= 0 && b.x + b.width <= PHONE.width + 0.5, `${role}: ${id} inside the viewport (${JSON.stringify(b)})`);
    assert.ok(b.y + b.height <= PHONE.height + 0.5, `${role}: ${id} above the bottom edge (${JSON.stringify(b)})`);
  }
  for (let i = 0; i < ids.length; i++) {
    for (let j = i + 1; j < ids.length; j++) {
      const a = boxes[ids[i]];
      const b = boxes[ids[j]];
      const overlap = a.x < b.x + b.width - 0.5 && b.x < a.x + a.width - 0.5 && a.y < b.y + b.height - 0.5 && b.y < a.y + a.height - 0.5;
      assert.ok(!overlap, `${role}: ${ids[i]} and ${ids[j]} overlap`);
    }
  }
  assert.ok(boxes['chat-input'].width >= 150, `${role}: the text field keeps room to type (${boxes['chat-input'].width} px)`);
}

describe('phone', () => {
  before(() => f.setup());
  after(() => f.teardown());

  test(
    'pages fit a 375 px screen',
    f.scenario('phone pages', async () => {
      const c = await f.party('customer', PHONE);
      const w = await f.party('worker', PHONE);
      await waitFor(() => c.page.locator(tid('booking-status')).textContent(), 'Accepted', 'customer booking status');
      await waitFor(() => w.page.locator(tid('booking-status')).textContent(), 'Accepted', 'worker booking status');
      await c.page.locator(tid('provider-card')).getByText('Online', { exact: false }).waitFor();
      await screenshot(c.page, 'customer-phone.png');
      await screenshot(w.page, 'worker-phone.png');
      assert.deepEqual(await horizontalOverflow(c.page), [], 'customer page overflows');
      assert.deepEqual(await horizontalOverflow(w.page), [], 'worker page overflows');
      // Every worker action is reachable on a phone.
      for (const id of ['action-en_route', 'action-in_progress', 'action-completed', 'action-cancelled', 'action-reset', 'message-button']) {
        const b = await w.page.locator(tid(id)).boundingBox();
        assert.ok(b && b.x >= 0 && b.x + b.width <= PHONE.width, `worker: ${id} inside the viewport`);
      }
      assertNoPageErrors([c, w]);
    }),
  );

  test(
    'full-screen chat: text both ways, typing, read ticks, a photo, long words wrap',
    f.scenario('phone chat', async () => {
      const c = await f.party('customer', PHONE);
      const w = await f.party('worker', PHONE);
      await openChat(c);
      await openChat(w);
      for (const p of [c, w]) {
        const box = await p.page.locator(`${tid('chat-dialog')} .MuiDialog-paper`).boundingBox();
        assert.deepEqual(
          { x: Math.round(box.x), y: Math.round(box.y), w: Math.round(box.width), h: Math.round(box.height) },
          { x: 0, y: 0, w: PHONE.width, h: PHONE.height },
          `${p.role}: the chat is full screen`,
        );
      }

      await c.page.locator(tid('chat-input')).pressSequentially('Hello from my phone', { delay: 20 });
      await w.page.locator(tid('typing-indicator')).waitFor({ state: 'visible' });
      await c.page.locator(tid('send-button')).tap();
      await expectOneBubble(w.page, 'Hello from my phone', 'worker gets the customer message');
      await waitFor(() => bubbles(c.page, 'Hello from my phone').getAttribute('data-status'), 'read', 'customer message read');
      await w.page.locator(tid('typing-indicator')).waitFor({ state: 'hidden' });

      const long = 'Directions: https://maps.example.com/?q=' + 'a1b2c3d4'.repeat(12) + ' and the word Donaudampfschifffahrtsgesellschaftskapitänswitwe.';
      await w.page.locator(tid('chat-input')).pressSequentially('Got it', { delay: 20 });
      await c.page.locator(tid('typing-indicator')).waitFor({ state: 'visible' });
      await w.page.locator(tid('chat-input')).fill(long);
      await w.page.locator(tid('chat-input')).press('Enter');
      await expectOneBubble(c.page, 'Donaudampfschifffahrts', 'customer gets the long reply');
      await waitFor(() => bubbles(w.page, 'Donaudampfschifffahrts').getAttribute('data-status'), 'read', 'worker reply read');

      const dir = mkdtempSync(join(tmpdir(), 'omw-e2e-img-'));
      try {
        const file = join(dir, 'meter.png');
        writeFileSync(file, makePng(200, 300));
        await c.page.locator(tid('file-input')).setInputFiles(file);
        for (const p of [c, w]) {
          const img = p.page.locator(`${tid('message-bubble')}[data-kind="image"] img`);
          await img.waitFor({ state: 'visible' });
          await waitUntil(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), `${p.role}: photo loaded`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      await sendText(c.page, 'That is the meter, photo above');
      await expectOneBubble(w.page, 'That is the meter');
      // Let the lists settle at the bottom after the image loaded.
      for (const p of [c, w]) {
        await waitUntil(
          () => p.page.locator(tid('message-list')).evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4),
          `${p.role}: list scrolled to the newest message`,
        );
      }

      for (const p of [c, w]) {
        assert.deepEqual(await horizontalOverflow(p.page), [], `${p.role}: chat overflows`);
        const list = await p.page.locator(tid('message-list')).evaluate((el) => ({ sw: el.scrollWidth, cw: el.clientWidth }));
        assert.ok(list.sw <= list.cw, `${p.role}: message list scrolls sideways (${list.sw} > ${list.cw})`);
        await assertInputRowLayout(p.page, p.role);
      }
      await screenshot(c.page, 'customer-chat-phone.png');
      await screenshot(w.page, 'worker-chat-phone.png');
      assertNoPageErrors([c, w]);
    }),
  );
});
