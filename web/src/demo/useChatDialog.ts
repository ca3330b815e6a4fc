import { useCallback, useEffect, useState } from 'react';
import { onOpenChatRequest } from '@omw-chat/client';

const PARAM = 'chat';

/**
 * Whether the chat dialog is open, kept in the address as `?chat=<chat id>`: a notification's
 * link and a reload open the chat, and so does the service worker's `open-chat` message when its
 * notification is clicked while the page is open (web/public/sw.js).
 */
export function useChatDialog(chatId: string | null): [open: boolean, setOpen: (open: boolean) => void] {
  const [wanted, setWanted] = useState<string | null>(() => new URLSearchParams(window.location.search).get(PARAM));
  useEffect(() => onOpenChatRequest(setWanted), []);
  const open = chatId !== null && wanted === chatId;
  useEffect(() => {
    // Until the booking has loaded, a `?chat=` may still be its chat.
    if (!chatId) return;
    const url = new URL(window.location.href);
    if (open) url.searchParams.set(PARAM, chatId);
    else url.searchParams.delete(PARAM);
    if (url.href !== window.location.href) window.history.replaceState(window.history.state, '', url);
  }, [open, chatId]);
  const setOpen = useCallback((next: boolean) => setWanted(next ? chatId : null), [chatId]);
  return [open, setOpen];
}
