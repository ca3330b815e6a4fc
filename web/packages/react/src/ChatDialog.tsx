import { useId } from 'react';
import Dialog from '@mui/material/Dialog';
import useMediaQuery from '@mui/material/useMediaQuery';
import { useTheme } from '@mui/material/styles';
import type { ChatClient } from '@omw-chat/client';
import { ChatWindow } from './ChatWindow';

/** The chat in a modal: full screen on phones, a tall dialog on larger screens. */
export function ChatDialog({ client, chatId, open, onClose }: { client: ChatClient; chatId: string | null; open: boolean; onClose: () => void }) {
  const theme = useTheme();
  const phone = useMediaQuery(theme.breakpoints.down('sm'));
  const titleId = useId();
  return (
    <Dialog
      open={open && !!chatId}
      onClose={onClose}
      fullScreen={phone}
      fullWidth
      maxWidth="sm"
      aria-labelledby={titleId}
      slotProps={{ paper: { sx: { height: phone ? '100%' : 'min(720px, 85vh)', display: 'flex' } } }}
      data-testid="chat-dialog"
    >
      {chatId && <ChatWindow client={client} chatId={chatId} onClose={onClose} titleId={titleId} />}
    </Dialog>
  );
}
