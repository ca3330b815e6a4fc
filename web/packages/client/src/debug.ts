/** Debug logging, on when `localStorage.chat_debug === 'true'`. */
export function debugEnabled(): boolean {
  try {
    return globalThis.localStorage?.getItem('chat_debug') === 'true';
  } catch {
    return false;
  }
}

export function debug(...args: unknown[]): void {
  if (debugEnabled()) console.debug('[omw-chat]', ...args);
}
