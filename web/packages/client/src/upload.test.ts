import { expect, test, vi } from 'vitest';
import { uploadAttachment } from './upload';

/** A stand-in XMLHttpRequest that records what was sent and answers 201. */
class FakeXhr {
  static sent: { url: string; headers: Record<string, string>; body: FormData }[] = [];
  upload = { onprogress: null };
  status = 0;
  responseText = '';
  responseType = '';
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  private url = '';
  private headers: Record<string, string> = {};
  open(_method: string, url: string) {
    this.url = url;
  }
  setRequestHeader(k: string, v: string) {
    this.headers[k] = v;
  }
  send(body: FormData) {
    FakeXhr.sent.push({ url: this.url, headers: this.headers, body });
    this.status = 201;
    this.responseText = JSON.stringify({ attachment: { id: 'a1', name: 'v.webm', mime: 'audio/webm', size: 3, url: '/api/v1/attachments/a1', duration_ms: 2300 } });
    queueMicrotask(() => this.onload?.());
  }
}

test('a voice note upload carries its recorded duration as the multipart field duration_ms', async () => {
  vi.stubGlobal('XMLHttpRequest', FakeXhr);
  const file = new File(['abc'], 'v.webm', { type: 'audio/webm' });
  const a = await uploadAttachment({ token: 't', chatId: 'c/1', file, durationMs: 2300.4 });
  expect(a.duration_ms).toBe(2300);
  const sent = FakeXhr.sent.at(-1)!;
  expect(sent.url).toBe('/api/v1/chats/c%2F1/attachments');
  expect(sent.headers.Authorization).toBe('Bearer t');
  expect(sent.body.get('duration_ms')).toBe('2300');
  expect((sent.body.get('file') as File).name).toBe('v.webm');

  await uploadAttachment({ token: 't', chatId: 'c', file });
  expect(FakeXhr.sent.at(-1)!.body.has('duration_ms')).toBe(false);
  vi.unstubAllGlobals();
});
