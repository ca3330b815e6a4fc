import type { SendKind } from '@omw-chat/client';

export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

/** Allowed types (SPEC §6) by MIME, with the extensions used when the browser gives no MIME. */
export const ALLOWED: Record<string, string[]> = {
  'image/jpeg': ['.jpg', '.jpeg'],
  'image/png': ['.png'],
  'image/gif': ['.gif'],
  'image/webp': ['.webp'],
  'application/pdf': ['.pdf'],
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': ['.docx'],
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': ['.xlsx'],
  'application/vnd.openxmlformats-officedocument.presentationml.presentation': ['.pptx'],
  'application/vnd.oasis.opendocument.text': ['.odt'],
  'text/plain': ['.txt'],
  'audio/webm': ['.webm', '.weba'],
  'audio/ogg': ['.ogg', '.oga', '.opus'],
  'audio/opus': ['.opus'],
  'audio/mpeg': ['.mp3'],
  'audio/mp4': ['.m4a'],
  'audio/x-m4a': ['.m4a'],
  'audio/aac': ['.aac'],
  'audio/wav': ['.wav'],
  'audio/x-wav': ['.wav'],
  'audio/wave': ['.wav'],
};

const EXTENSIONS = new Map(Object.entries(ALLOWED).flatMap(([mime, exts]) => exts.map((e) => [e, mime] as const)));

export const ACCEPT_ATTRIBUTE = [...Object.keys(ALLOWED), ...EXTENSIONS.keys()].join(',');

/** The effective MIME of a file (its own, or guessed from the extension), or null if not allowed. */
export function allowedMime(file: { name: string; type: string }): string | null {
  const type = file.type.split(';')[0]!.trim().toLowerCase();
  if (type && ALLOWED[type]) return type;
  const dot = file.name.lastIndexOf('.');
  const ext = dot >= 0 ? file.name.slice(dot).toLowerCase() : '';
  if ((!type || type === 'application/octet-stream' || type === 'video/webm') && EXTENSIONS.has(ext)) return EXTENSIONS.get(ext)!;
  return null;
}

/** Why a file cannot be sent (the UI words it in the reader's language), or null. */
export type FileProblem = { reason: 'too_large'; name: string; size: number; max: number } | { reason: 'empty' | 'type'; name: string };

export function validateFile(file: { name: string; type: string; size: number }): FileProblem | null {
  if (file.size > MAX_UPLOAD_BYTES) return { reason: 'too_large', name: file.name, size: file.size, max: MAX_UPLOAD_BYTES };
  if (file.size === 0) return { reason: 'empty', name: file.name };
  if (!allowedMime(file)) return { reason: 'type', name: file.name };
  return null;
}

export function kindForMime(mime: string): SendKind {
  if (mime.startsWith('image/')) return 'image';
  if (mime.startsWith('audio/')) return 'audio';
  return 'file';
}
