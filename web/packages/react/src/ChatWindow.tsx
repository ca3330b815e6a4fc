import { Fragment, useCallback, useEffect, useId, useLayoutEffect, useMemo, useRef, type UIEvent } from 'react';
import { format } from 'date-fns';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Divider from '@mui/material/Divider';
import Typography from '@mui/material/Typography';
import { type IntlShape } from 'react-intl';
import { defineMessages } from './i18n/define';
import { counterpart, deliveryStatus, uploadAttachment, type ApiError, type ChatClient, type ChatState, type SendKind } from '@omw-chat/client';
import { ChatHeader } from './ChatHeader';
import { ChatInput, type SendFileMeta } from './ChatInput';
import { useChatEnv } from './context';
import { useChatState, useClientState } from './hooks';
import { MessageBubble, type BubbleMessage } from './MessageBubble';
import { errorText } from './i18n/errors';
import { dayLabel } from './i18n/format';
import { ChatIntlProvider, useChatI18n, useOuterChatI18n } from './i18n/I18nProvider';
import { PushPrompt, PushToggle } from './push/PushControls';

const m = defineMessages({
  closedCompleted: {
    id: 'chat.closed.completed',
    defaultMessage: 'This chat is closed because the service was completed. Messages can no longer be sent.',
  },
  closedCancelled: {
    id: 'chat.closed.cancelled',
    defaultMessage: 'This chat is closed because the booking was cancelled. Messages can no longer be sent.',
  },
  closed: { id: 'chat.closed', defaultMessage: 'This chat is closed. Messages can no longer be sent.' },
  fallbackTitle: { id: 'chat.title_fallback', defaultMessage: 'Chat' },
  reconnecting: {
    id: 'chat.reconnecting',
    defaultMessage: 'Connection lost — reconnecting. Messages you send now go out when it is back.',
  },
  notAvailable: { id: 'chat.not_available', defaultMessage: 'This chat is not available.' },
  messages: { id: 'chat.messages_label', defaultMessage: 'Messages' },
  loadingOlder: { id: 'chat.loading_older', defaultMessage: 'Loading earlier messages' },
  loadOlder: { id: 'chat.load_older', defaultMessage: 'Load earlier messages' },
  loading: { id: 'chat.loading', defaultMessage: 'Loading chat' },
  unread: {
    id: 'chat.unread_marker',
    defaultMessage: '{count, plural, one {# unread message} other {# unread messages}}',
  },
});

export interface ChatWindowProps {
  client: ChatClient;
  chatId: string;
  onClose?: () => void;
  /** id for the title element (the dialog's aria-labelledby). */
  titleId?: string;
  /**
   * The chat's language (BCP 47: `de`, `ar`, `en-XA`); unset: the enclosing ChatEnvProvider's
   * (the JWT `locale` claim, then the browser, then English).
   */
  locale?: string;
  /** The host's own texts for some message ids, over the shipped catalog. */
  messages?: Record<string, string>;
}

/** Why the chat is closed, in the reader's language. */
export function closedNoticeText(intl: IntlShape, reason: string | null | undefined): string {
  if (reason === 'completed') return intl.formatMessage(m.closedCompleted);
  if (reason === 'cancelled') return intl.formatMessage(m.closedCancelled);
  return intl.formatMessage(m.closed);
}

interface Row {
  message: BubbleMessage;
  own: boolean;
  status?: 'sending' | 'sent' | 'read' | 'failed';
  error?: ApiError;
  clientId?: string;
}

function buildRows(c: ChatState, meId: string): Row[] {
  const rows: Row[] = c.messages.map((msg) => ({
    message: {
      key: msg.id,
      seq: msg.seq,
      kind: msg.kind,
      body: msg.body,
      attachment: msg.attachment,
      sender: msg.sender,
      created_at: msg.created_at,
      system: msg.system ?? null,
    },
    own: msg.sender.id === meId,
    status: msg.sender.id === meId ? deliveryStatus(msg, c, meId) : undefined,
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
        sender: { id: meId, name: '', role: 'me' },
        created_at: p.created_at,
      },
      own: true,
      status: p.status,
      error: p.error,
      clientId: p.client_id,
    });
  }
  return rows;
}

/**
 * The chat: header, history (older pages on scroll-up), day separators, unread marker, input.
 * With `locale` or `messages` it speaks that language itself; otherwise the provider's.
 */
export function ChatWindow({ locale, messages, ...props }: ChatWindowProps) {
  const outer = useOuterChatI18n();
  const inner = <ChatWindowBody {...props} />;
  return locale || messages ? (
    <ChatIntlProvider locale={locale} fallbackLocales={outer ? [outer.locale] : []} messages={messages}>
      {inner}
    </ChatIntlProvider>
  ) : (
    inner
  );
}

function ChatWindowBody({ client, chatId, onClose, titleId }: Omit<ChatWindowProps, 'locale' | 'messages'>) {
  const env = useChatEnv();
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const { connection, me } = useClientState(client);
  const c = useChatState(client, chatId);
  const listRef = useRef<HTMLDivElement>(null);
  const atBottomRef = useRef(true);
  const anchorRef = useRef<{ height: number; top: number } | null>(null);
  const unreadFromRef = useRef<number | null | undefined>(undefined);
  const unreadCountRef = useRef(0);
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
    const unread = c.messages.filter((msg) => msg.seq > read && msg.sender.id !== me.id && msg.kind !== 'system');
    unreadFromRef.current = unread[0]?.seq ?? null;
    unreadCountRef.current = unread.length;
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
    <Box
      dir={i18n.dir}
      lang={i18n.locale}
      sx={{ display: 'flex', flexDirection: 'column', height: '100%', width: '100%', minHeight: 0, bgcolor: 'background.paper' }}
      data-testid="chat-window"
    >
      <ChatHeader
        name={other?.name ?? t(m.fallbackTitle)}
        role={other?.role ?? (me.role === 'customer' ? 'worker' : 'customer')}
        online={other?.online ?? false}
        lastSeen={other?.last_seen ?? null}
        typing={typing}
        bookingStatus={c?.chat?.booking_status ?? null}
        connection={connection}
        titleId={titleId ?? fallbackTitleId}
        actions={!closed && <PushToggle />}
        onClose={onClose}
      />
      {!closed && <PushPrompt />}
      {connection === 'disconnected' && !closed && (
        <Alert severity="warning" sx={{ borderRadius: 0 }} role="status">
          {t(m.reconnecting)}
        </Alert>
      )}
      {c?.error && !closed && (
        <Alert severity="error" sx={{ borderRadius: 0 }}>
          {c.error.code === 'forbidden' || c.error.code === 'not_found' ? t(m.notAvailable) : errorText(i18n.intl, c.error)}
        </Alert>
      )}
      <Box
        ref={listRef}
        onScroll={onScroll}
        role="list"
        aria-label={t(m.messages)}
        aria-live="polite"
        aria-relevant="additions"
        data-testid="message-list"
        tabIndex={0}
        sx={{ flex: 1, overflowY: 'auto', px: { xs: 1, sm: 2 }, py: 1, minHeight: 0 }}
      >
        {hasMore && (
          <Box sx={{ display: 'flex', justifyContent: 'center', my: 1 }}>
            {loadingOlder ? (
              <CircularProgress size={20} aria-label={t(m.loadingOlder)} />
            ) : (
              <Button size="small" onClick={loadOlder}>
                {t(m.loadOlder)}
              </Button>
            )}
          </Box>
        )}
        {!c?.joined && rows.length === 0 && !c?.error && (
          <Box sx={{ display: 'flex', justifyContent: 'center', my: 4 }}>
            <CircularProgress size={28} aria-label={t(m.loading)} />
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
                    {dayLabel(i18n, new Date(row.message.created_at))}
                  </Typography>
                </Divider>
              )}
              {showUnread && (
                <Divider role="separator" sx={{ my: 1, '&::before, &::after': { borderColor: 'primary.main' } }} data-testid="unread-marker">
                  <Typography variant="caption" color="primary">
                    {t(m.unread, { count: unreadCountRef.current })}
                  </Typography>
                </Divider>
              )}
              <MessageBubble
                message={row.message}
                own={row.own}
                status={row.status}
                errorText={row.error ? errorText(i18n.intl, row.error) : undefined}
                onRetry={row.clientId && row.status === 'failed' && !closed ? () => client.retry(row.clientId!) : undefined}
                onDiscard={row.clientId && row.status === 'failed' ? () => client.discard(row.clientId!) : undefined}
              />
            </Fragment>
          );
        })}
      </Box>
      <ChatInput
        closedNotice={closed ? closedNoticeText(i18n.intl, c?.chat?.close_reason) : null}
        onSendText={(text) => client.send(chatId, { kind: 'text', body: text })}
        onSendFile={sendFile}
        onTyping={() => client.typing(chatId)}
        onStopTyping={() => client.stopTyping(chatId)}
      />
    </Box>
  );
}
