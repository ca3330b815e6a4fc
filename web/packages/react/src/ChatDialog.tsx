import { useId } from 'react';
import Dialog from '@mui/material/Dialog';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import type { ChatClient } from '@omw-chat/client';
import { ChatWindow } from './ChatWindow';
import { ChatIntlProvider, useChatI18n, useOuterChatI18n } from './i18n/I18nProvider';

export interface ChatDialogProps {
  client: ChatClient;
  chatId: string | null;
  open: boolean;
  onClose: () => void;
  /** The chat's language (BCP 47); unset: the enclosing ChatEnvProvider's. */
  locale?: string;
  /** The host's own texts for some message ids, over the shipped catalog. */
  messages?: Record<string, string>;
}

/** The chat in a modal: full screen on phones, a tall dialog on larger screens. */
export function ChatDialog({ locale, messages, ...props }: ChatDialogProps) {
  const outer = useOuterChatI18n();
  return locale || messages ? (
    <ChatIntlProvider locale={locale} fallbackLocales={outer ? [outer.locale] : []} messages={messages}>
      <ChatDialogBody {...props} />
    </ChatIntlProvider>
  ) : (
    <ChatDialogBody {...props} />
  );
}

function ChatDialogBody({ client, chatId, open, onClose }: Omit<ChatDialogProps, 'locale' | 'messages'>) {
  const theme = useTheme();
  const { dir } = useChatI18n();
  const phone = useMediaQuery(theme.breakpoints.down('sm'));
  const titleId = useId();
  return (
    <Dialog
      open={open && !!chatId}
      onClose={onClose}
      fullScreen={phone}
      fullWidth
      maxWidth="sm"
      dir={dir}
      aria-labelledby={titleId}
      slotProps={{ paper: { sx: { height: phone ? '100%' : 'min(720px, 85vh)', display: 'flex' } } }}
      data-testid="chat-dialog"
    >
      {chatId && <ChatWindow client={client} chatId={chatId} onClose={onClose} titleId={titleId} />}
    </Dialog>
  );
}
