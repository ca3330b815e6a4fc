import { Fragment, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, type UIEvent } from 'react';
import { format, isToday, isYesterday } from 'date-fns';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Divider from '@mui/material/Divider';
import Typography from '@mui/material/Typography';
import { counterpart, deliveryStatus, uploadAttachment, type ChatClient, type ChatState, type SendKind } from '@omw-chat/client';
import { ChatHeader } from './ChatHeader';
import { ChatInput, type SendFileMeta } from './ChatInput';
import { useChatEnv } from './context';
import { useChatState, useClientState } from './hooks';
import { MessageBubble, type BubbleMessage } from './MessageBubble';

export interface ChatWindowProps {
  client: ChatClient;
  chatId: string;
  onClose?: () => void;
  /** id for the title element (the dialog's aria-labelledby). */
  titleId?: string;
}

function dayLabel(d: Date): string {
  if (isToday(d)) return 'Today';
  if (isYesterday(d)) return 'Yesterday';
  return format(d, 'EEEE, d MMMM yyyy');
}

export function closedNoticeText(reason: string | null | undefined): string {
  if (reason === 'completed') return 'This chat is closed because the service was completed. Messages can no longer be sent.';
  if (reason === 'cancelled') return 'This chat is closed because the booking was cancelled. Messages can no longer be sent.';
  return 'This chat is closed. Messages can no longer be sent.';
}

interface Row {
  message: BubbleMessage;
  own: boolean;
  status?: 'sending' | 'sent' | 'read' | 'failed';
  errorText?: string;
  clientId?: string;
}

function buildRows(c: ChatState, meId: string): Row[] {
  const rows: Row[] = c.messages.map((m) => ({
    message: { key: m.id, seq: m.seq, kind: m.kind, body: m.body, attachment: m.attachment, sender: m.sender, created_at: m.created_at },
    own: m.sender.id === meId,
    status: m.sender.id === meId ? deliveryStatus(m, c, meId) : undefined,
  }));
  for (const p of c.pending) {
    rows.push({
      message: {
        key: `pending-${p.client_id}`,
        seq: null,
        kind: p.kind,
        body: p.body ?? null,
        attachment: null,
        preview: p.preview ?? null,
        sender: { id: meId, name: 'You', role: 'me' },
        created_at: p.created_at,
      },
      own: true,
      status: p.status,
      errorText: p.error ? p.error.message : undefined,
      clientId: p.client_id,
    });
  }
  return rows;
}

/** The chat: header, history (older pages on scroll-up), day separators, unread marker, input. */
export function ChatWindow({ client, chatId, onClose, titleId }: ChatWindowProps) {
  const env = useChatEnv();
  const { connection, me } = useClientState(client);
  const c = useChatState(client, chatId);
  const listRef = useRef<HTMLDivElement>(null);
  const atBottomRef = useRef(true);
  const anchorRef = useRef<{ height: number; top: number } | null>(null);
  const unreadFromRef = useRef<number | null | undefined>(undefined);
  const fallbackTitleId = useId();

  const rows = useMemo(() => (c ? buildRows(c, me.id) : []), [c, me.id]);
  const other = counterpart(c, me.id);
  const closed = c?.chat?.status === 'closed';
  const firstSeq = c?.messages[0]?.seq ?? 0;
  const lastKey = rows.at(-1)?.message.key ?? '';
  const lastSeq = c?.messages.at(-1)?.seq ?? 0;
  const hasMore = c?.hasMore ?? false;
  const loadingOlder = c?.loadingOlder ?? false;

  // The unread marker: fixed at the first unread message when the window opened.
  if (unreadFromRef.current === undefined && c?.joined && c.messages.length > 0) {
    const read = c.participants[me.id]?.last_read_seq ?? 0;
    unreadFromRef.current = c.messages.find((m) => m.seq > read && m.sender.id !== me.id && m.kind !== 'system')?.seq ?? null;
  }
  const unreadFrom = unreadFromRef.current ?? null;

  const loadOlder = useCallback(() => {
    const el = listRef.current;
    if (el) anchorRef.current = { height: el.scrollHeight, top: el.scrollTop };
    void client.loadOlder(chatId);
  }, [client, chatId]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atBottomRef.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
    if (el.scrollTop < 60 && hasMore && !loadingOlder) loadOlder();
    if (atBottomRef.current && document.visibilityState === 'visible') void client.markRead(chatId);
  };

  // Older page prepended: keep the visible messages where they were.
  useLayoutEffect(() => {
    const el = listRef.current;
    const a = anchorRef.current;
    if (!el || !a) return;
    anchorRef.current = null;
    el.scrollTop = el.scrollHeight - a.height + a.top;
  }, [firstSeq]);

  // New message at the end: follow it if the reader was at the bottom (or it is our own).
  useLayoutEffect(() => {
    const el = listRef.current;
    if (!el) return;
    const last = rows.at(-1);
    if (atBottomRef.current || last?.own) {
      el.scrollTop = el.scrollHeight;
      atBottomRef.current = true;
    }
    // A short history that does not fill the view: load more right away.
    if (el.scrollHeight <= el.clientHeight && hasMore && !loadingOlder) loadOlder();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [lastKey]);

  // Read receipts: what is on screen while the page is visible.
  useEffect(() => {
    if (!lastSeq) return;
    const mark = () => {
      if (document.visibilityState === 'visible' && atBottomRef.current) void client.markRead(chatId);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [client, chatId, lastSeq]);

  const sendFile = useCallback(
    async (file: File, kind: SendKind, onProgress: (f: number) => void, meta?: SendFileMeta) => {
      const token = await env.getToken();
      const attachment = await uploadAttachment({ baseUrl: env.baseUrl, token, chatId, file, onProgress, durationMs: meta?.durationMs });
      client.send(chatId, { kind, attachment_id: attachment.id, preview: { name: attachment.name, mime: attachment.mime, size: attachment.size } });
    },
    [client, chatId, env],
  );

  const typing = other ? Boolean(c?.typing[other.id]) : false;
  let prevDay = '';

  return (
    <Box sx={{ display: 'flex', flexDirection: 'column', height: '100%', minHeight: 0, bgcolor: 'background.paper' }} data-testid="chat-window">
      <ChatHeader
        name={other?.name ?? 'Chat'}
        role={other?.role ?? (me.role === 'customer' ? 'worker' : 'customer')}
        online={other?.online ?? false}
        lastSeen={other?.last_seen ?? null}
        typing={typing}
        bookingStatus={c?.chat?.booking_status ?? null}
        connection={connection}
        titleId={titleId ?? fallbackTitleId}
        onClose={onClose}
      />
      {connection === 'disconnected' && !closed && (
        <Alert severity="warning" sx={{ borderRadius: 0 }} role="status">
          Connection lost — reconnecting. Messages you send now go out when it is back.
        </Alert>
      )}
      {c?.error && !closed && (
        <Alert severity="error" sx={{ borderRadius: 0 }}>
          {c.error.code === 'forbidden' || c.error.code === 'not_found' ? 'This chat is not available.' : c.error.message}
        </Alert>
      )}
      <Box
        ref={listRef}
        onScroll={onScroll}
        role="list"
        aria-label="Messages"
        aria-live="polite"
        aria-relevant="additions"
        data-testid="message-list"
        tabIndex={0}
        sx={{ flex: 1, overflowY: 'auto', px: { xs: 1, sm: 2 }, py: 1, minHeight: 0 }}
      >
        {hasMore && (
          <Box sx={{ display: 'flex', justifyContent: 'center', my: 1 }}>
            {loadingOlder ? (
              <CircularProgress size={20} aria-label="Loading earlier messages" />
            ) : (
              <Button size="small" onClick={loadOlder}>
                Load earlier messages
              </Button>
            )}
          </Box>
        )}
        {!c?.joined && rows.length === 0 && !c?.error && (
          <Box sx={{ display: 'flex', justifyContent: 'center', my: 4 }}>
            <CircularProgress size={28} aria-label="Loading chat" />
          </Box>
        )}
        {rows.map((row) => {
          const day = format(new Date(row.message.created_at), 'yyyy-MM-dd');
          const showDay = day !== prevDay;
          prevDay = day;
          const showUnread = unreadFrom !== null && row.message.seq === unreadFrom;
          return (
            <Fragment key={row.message.key}>
              {showDay && (
                <Divider role="separator" sx={{ my: 1.5 }} data-testid="day-separator">
                  <Typography variant="caption" color="text.secondary">
                    {dayLabel(new Date(row.message.created_at))}
                  </Typography>
                </Divider>
              )}
              {showUnread && (
                <Divider role="separator" sx={{ my: 1, '&::before, &::after': { borderColor: 'primary.main' } }} data-testid="unread-marker">
                  <Typography variant="caption" color="primary">
                    Unread messages
                  </Typography>
                </Divider>
              )}
              <MessageBubble
                message={row.message}
                own={row.own}
                status={row.status}
                errorText={row.errorText}
                onRetry={row.clientId && row.status === 'failed' && !closed ? () => client.retry(row.clientId!) : undefined}
                onDiscard={row.clientId && row.status === 'failed' ? () => client.discard(row.clientId!) : undefined}
              />
            </Fragment>
          );
        })}
      </Box>
      <ChatInput
        closedNotice={closed ? closedNoticeText(c?.chat?.close_reason) : null}
        onSendText={(text) => client.send(chatId, { kind: 'text', body: text })}
        onSendFile={sendFile}
        onTyping={() => client.typing(chatId)}
        onStopTyping={() => client.stopTyping(chatId)}
      />
    </Box>
  );
}
