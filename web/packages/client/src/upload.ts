import type { ApiError, Attachment } from './types';

export interface UploadOptions {
  /** Server origin; empty for the page's own origin. */
  baseUrl?: string;
  token: string;
  chatId: string;
  file: File | Blob;
  fileName?: string;
  /**
   * A voice note's length as recorded; sent as the multipart field `duration_ms` so the server
   * can store it where the container does not say (MediaRecorder's WebM has no duration).
   */
  durationMs?: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export class UploadError extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
    this.name = 'UploadError';
  }
}

function parseError(status: number, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: ApiError };
    if (body.error?.code) return body.error;
  } catch {
    // not JSON
  }
  if (status === 413) return { code: 'payload_too_large', message: 'The file is too large' };
  if (status === 415) return { code: 'unsupported_media_type', message: 'This file type is not allowed' };
  return { code: status >= 500 ? 'unavailable' : 'internal', message: `Upload failed (${status})` };
}

/** Upload an attachment (multipart field `file`) with progress; resolves with the stored attachment. */
export function uploadAttachment(o: UploadOptions): Promise<Attachment> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${o.baseUrl ?? ''}/api/v1/chats/${encodeURIComponent(o.chatId)}/attachments`);
    xhr.setRequestHeader('Authorization', `Bearer ${o.token}`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && o.onProgress) o.onProgress(e.total ? e.loaded / e.total : 0);
    };
    xhr.onload = () => {
      if (xhr.status === 201 || xhr.status === 200) {
        try {
          const body = JSON.parse(xhr.responseText) as { attachment: Attachment };
          o.onProgress?.(1);
          resolve(body.attachment);
        } catch {
          reject(new UploadError({ code: 'internal', message: 'Malformed upload response' }));
        }
      } else reject(new UploadError(parseError(xhr.status, xhr.responseText)));
    };
    xhr.onerror = () => reject(new UploadError({ code: 'network', message: 'Network error during upload' }));
    xhr.onabort = () => reject(new UploadError({ code: 'network', message: 'Upload cancelled' }));
    o.signal?.addEventListener('abort', () => xhr.abort());
    const form = new FormData();
    if (o.durationMs !== undefined && Number.isFinite(o.durationMs) && o.durationMs >= 0) form.append('duration_ms', String(Math.round(o.durationMs)));
    const name = o.fileName ?? (o.file instanceof File ? o.file.name : 'file');
    form.append('file', o.file, name);
    xhr.send(form);
  });
}

const mediaCache = new Map<string, Promise<string>>();

/**
 * Fetch an API media path with the Bearer token and return an object URL (cached per URL for
 * the page's lifetime; attachments never change).
 */
export function fetchMediaUrl(url: string, token: string, baseUrl = '', fetchImpl: typeof fetch = fetch): Promise<string> {
  const key = `${baseUrl}${url}`;
  const cached = mediaCache.get(key);
  if (cached) return cached;
  const p = fetchImpl(key, { headers: { Authorization: `Bearer ${token}` } }).then(async (res) => {
    if (!res.ok) throw new UploadError(parseError(res.status, await res.text().catch(() => '')));
    return URL.createObjectURL(await res.blob());
  });
  p.catch(() => mediaCache.delete(key));
  mediaCache.set(key, p);
  return p;
}

/** Download an attachment with the token and save it under its name. */
export async function downloadAttachment(url: string, name: string, token: string, baseUrl = ''): Promise<void> {
  const objectUrl = await fetchMediaUrl(url, token, baseUrl);
  const a = document.createElement('a');
  a.href = objectUrl;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
