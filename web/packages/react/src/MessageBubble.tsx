import { useState } from 'react';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import CircularProgress from '@mui/material/CircularProgress';
import Dialog from '@mui/material/Dialog';
import IconButton from '@mui/material/IconButton';
import Paper from '@mui/material/Paper';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import AccessTimeIcon from '@mui/icons-material/AccessTime';
import CloseIcon from '@mui/icons-material/Close';
import DescriptionIcon from '@mui/icons-material/Description';
import DoneIcon from '@mui/icons-material/Done';
import DoneAllIcon from '@mui/icons-material/DoneAll';
import DownloadIcon from '@mui/icons-material/Download';
import ErrorOutlineIcon from '@mui/icons-material/ErrorOutline';
import GraphicEqIcon from '@mui/icons-material/GraphicEq';
import ImageIcon from '@mui/icons-material/Image';
import PictureAsPdfIcon from '@mui/icons-material/PictureAsPdf';
import { type MessageDescriptor } from 'react-intl';
import { defineMessages } from './i18n/define';
import type { Attachment, DeliveryStatus, MessageKind, SystemInfo } from '@omw-chat/client';
import { useChatEnv } from './context';
import { useAuthMedia } from './hooks';
import { fileSize, timeOfDay } from './i18n/format';
import { useChatI18n } from './i18n/I18nProvider';
import { systemText } from './i18n/system';
import { Linkified } from './Linkified';
import { TranslateButton } from './TranslateButton';

const STATUS_MESSAGES = defineMessages({
  sending: { id: 'message.status.sending', defaultMessage: 'Sending' },
  sent: { id: 'message.status.sent', defaultMessage: 'Sent' },
  read: { id: 'message.status.read', defaultMessage: 'Read' },
  failed: { id: 'message.status.failed', defaultMessage: 'Not sent' },
}) satisfies Record<DeliveryStatus, MessageDescriptor>;

const m = defineMessages({
  openImage: { id: 'message.image.open', defaultMessage: 'Open image {name}' },
  image: { id: 'message.image.label', defaultMessage: 'Image {name}' },
  imageUnavailable: { id: 'message.image.unavailable', defaultMessage: 'Image unavailable' },
  loadingImage: { id: 'message.image.loading', defaultMessage: 'Loading image' },
  closeImage: { id: 'message.image.close', defaultMessage: 'Close image' },
  downloadFailed: { id: 'message.file.download_failed', defaultMessage: 'Download failed' },
  download: { id: 'message.file.download', defaultMessage: 'Download {name}' },
  voiceNote: { id: 'message.audio.label', defaultMessage: 'Voice note {name}' },
  voiceUnavailable: { id: 'message.audio.unavailable', defaultMessage: 'Voice note unavailable' },
  voiceLoading: { id: 'message.audio.loading', defaultMessage: 'Loading voice note…' },
  systemLine: { id: 'message.system_line', defaultMessage: '{text} · {time}' },
  ownAt: { id: 'message.own_label', defaultMessage: 'You at {time}' },
  theirsAt: { id: 'message.label', defaultMessage: '{name} at {time}' },
  retry: { id: 'message.retry', defaultMessage: 'Retry' },
  retryLabel: { id: 'message.retry_label', defaultMessage: 'Retry sending' },
  discard: { id: 'message.discard', defaultMessage: 'Delete' },
  discardLabel: { id: 'message.discard_label', defaultMessage: 'Delete unsent message' },
});

/** What a bubble shows: a stored message or a pending one from the outbox. */
export interface BubbleMessage {
  key: string;
  seq: number | null;
  kind: MessageKind;
  body: string | null;
  attachment: Attachment | null;
  /** A pending upload's name/mime/size (no URL yet). */
  preview?: { name: string; mime: string; size: number } | null;
  sender: { id: string; name: string; role: string };
  created_at: string;
  /** A system message's code and params (SPEC §9.5), rendered in the reader's language. */
  system?: SystemInfo | null;
}

export interface MessageBubbleProps {
  message: BubbleMessage;
  own: boolean;
  status?: DeliveryStatus;
  errorText?: string;
  showSender?: boolean;
  onRetry?: () => void;
  onDiscard?: () => void;
}

// Ticks sit on the own bubble (primary.main #1f6feb): colours with at least 3:1 contrast there
// (the theme's info.light and error.main were 1.8:1 and 1.1:1, i.e. invisible).
const READ_TICK = '#a5f3fc';
const FAILED_ICON = '#ffcdd2';

function StatusIcon({ status }: { status: DeliveryStatus }) {
  const label = useChatI18n().intl.formatMessage(STATUS_MESSAGES[status]);
  const sx = { fontSize: 16, verticalAlign: 'middle' };
  const icon =
    status === 'sending' ? (
      <AccessTimeIcon sx={sx} />
    ) : status === 'sent' ? (
      <DoneIcon sx={sx} />
    ) : status === 'read' ? (
      <DoneAllIcon sx={{ ...sx, color: READ_TICK }} />
    ) : (
      <ErrorOutlineIcon sx={{ ...sx, color: FAILED_ICON }} />
    );
  return (
    <Tooltip title={label}>
      <Box component="span" role="img" aria-label={label} data-testid="message-status" sx={{ display: 'inline-flex', ml: 0.5 }}>
        {icon}
      </Box>
    </Tooltip>
  );
}

function ImageAttachment({ attachment }: { attachment: Attachment }) {
  const t = useChatI18n().intl.formatMessage;
  const [open, setOpen] = useState(false);
  const thumb = useAuthMedia(attachment.thumb_url ?? attachment.url);
  const full = useAuthMedia(open ? attachment.url : null);
  const ratio = attachment.width && attachment.height ? attachment.width / attachment.height : 4 / 3;
  return (
    <>
      <Box
        component="button"
        type="button"
        onClick={() => setOpen(true)}
        aria-label={t(m.openImage, { name: attachment.name })}
        sx={{
          p: 0,
          border: 0,
          background: 'none',
          cursor: 'zoom-in',
          display: 'block',
          width: 220,
          maxWidth: '100%',
          aspectRatio: String(ratio),
          borderRadius: 1,
          overflow: 'hidden',
          bgcolor: 'action.hover',
        }}
      >
        {thumb.src ? (
          <img src={thumb.src} alt={attachment.name} data-testid="image-thumb" style={{ width: '100%', height: '100%', objectFit: 'cover', display: 'block' }} />
        ) : thumb.error ? (
          <Box sx={{ display: 'flex', alignItems: 'center', justifyContent: 'center', height: '100%', gap: 1 }}>
            <ImageIcon aria-hidden />
            <Typography variant="caption">{t(m.imageUnavailable)}</Typography>
          </Box>
        ) : (
          <Box sx={{ display: 'flex', alignItems: 'center', justifyContent: 'center', height: '100%' }}>
            <CircularProgress size={24} aria-label={t(m.loadingImage)} />
          </Box>
        )}
      </Box>
      {/* The accessible name goes on the element with role="dialog" (the paper), not on the modal root. */}
      <Dialog open={open} onClose={() => setOpen(false)} maxWidth="lg" slotProps={{ paper: { 'aria-label': t(m.image, { name: attachment.name }) } }}>
        <IconButton aria-label={t(m.closeImage)} onClick={() => setOpen(false)} sx={{ position: 'absolute', right: 8, top: 8, bgcolor: 'background.paper' }}>
          <CloseIcon />
        </IconButton>
        {full.src ? (
          <img src={full.src} alt={attachment.name} style={{ maxWidth: '100%', maxHeight: '85vh', display: 'block' }} />
        ) : (
          <Box sx={{ p: 6 }}>{full.error ? t(m.imageUnavailable) : <CircularProgress aria-label={t(m.loadingImage)} />}</Box>
        )}
      </Dialog>
    </>
  );
}

function FileCard({ name, mime, size, url }: { name: string; mime: string; size: number; url?: string }) {
  const { fetchMedia } = useChatEnv();
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const download = async () => {
    if (!url) return;
    setBusy(true);
    setFailed(false);
    try {
      const href = await fetchMedia(url);
      const a = document.createElement('a');
      a.href = href;
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  const Icon = mime === 'application/pdf' ? PictureAsPdfIcon : DescriptionIcon;
  return (
    <Paper variant="outlined" data-testid="file-card" sx={{ display: 'flex', alignItems: 'center', gap: 1, p: 1, minWidth: 0, bgcolor: 'background.paper', color: 'text.primary' }}>
      <Icon color="action" aria-hidden />
      <Box sx={{ minWidth: 0, flex: 1 }}>
        <Typography variant="body2" noWrap title={name} sx={{ fontWeight: 500 }}>
          {name}
        </Typography>
        <Typography variant="caption" color={failed ? 'error' : 'text.secondary'}>
          {failed ? t(m.downloadFailed) : fileSize(i18n, size)}
        </Typography>
      </Box>
      {url && (
        <IconButton aria-label={t(m.download, { name })} onClick={() => void download()} disabled={busy} size="small">
          {busy ? <CircularProgress size={18} /> : <DownloadIcon />}
        </IconButton>
      )}
    </Paper>
  );
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function AudioAttachment({ attachment }: { attachment: Attachment }) {
  const t = useChatI18n().intl.formatMessage;
  const media = useAuthMedia(attachment.url);
  return (
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, minWidth: 0 }}>
      <GraphicEqIcon aria-hidden fontSize="small" />
      {media.src ? (
        <audio controls src={media.src} preload="metadata" aria-label={t(m.voiceNote, { name: attachment.name })} data-testid="audio-player" style={{ maxWidth: 240, height: 36 }} />
      ) : (
        <Typography variant="caption">{media.error ? t(m.voiceUnavailable) : t(m.voiceLoading)}</Typography>
      )}
      {attachment.duration_ms ? <Typography variant="caption">{formatDuration(attachment.duration_ms)}</Typography> : null}
    </Box>
  );
}

/** One message: own on the right, the counterpart's on the left, system messages centred. */
export function MessageBubble({ message, own, status, errorText, showSender, onRetry, onDiscard }: MessageBubbleProps) {
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const time = timeOfDay(i18n, message.created_at);
  const common = {
    'data-testid': 'message-bubble',
    'data-seq': message.seq ?? undefined,
    'data-kind': message.kind,
    'data-own': own ? 'true' : 'false',
  };
  if (message.kind === 'system') {
    return (
      <Box {...common} role="listitem" sx={{ display: 'flex', justifyContent: 'center', my: 1 }}>
        <Typography variant="caption" sx={{ px: 1.5, py: 0.5, borderRadius: 2, bgcolor: 'action.hover', color: 'text.secondary', textAlign: 'center' }}>
          {t(m.systemLine, {
            text: systemText(i18n.intl, message),
            time: (
              <time key="t" dateTime={message.created_at}>
                {time}
              </time>
            ),
          })}
        </Typography>
      </Box>
    );
  }
  const a = message.attachment;
  const p = message.preview;
  return (
    <Box
      {...common}
      data-status={own ? status : undefined}
      role="listitem"
      aria-label={own ? t(m.ownAt, { time }) : t(m.theirsAt, { name: message.sender.name, time })}
      sx={{ display: 'flex', flexDirection: 'column', alignItems: own ? 'flex-end' : 'flex-start', my: 0.5 }}
    >
      <Box
        sx={{
          maxWidth: { xs: '85%', sm: '70%' },
          px: 1.5,
          py: 1,
          borderRadius: 2,
          borderBottomRightRadius: own ? 4 : undefined,
          borderBottomLeftRadius: own ? undefined : 4,
          bgcolor: own ? 'primary.main' : 'grey.100',
          color: own ? 'primary.contrastText' : 'text.primary',
          opacity: status === 'sending' ? 0.85 : 1,
          minWidth: 0,
          display: 'flex',
          flexDirection: 'column',
          gap: 0.5,
        }}
      >
        {showSender && !own && (
          <Typography variant="caption" sx={{ fontWeight: 600 }}>
            {message.sender.name}
          </Typography>
        )}
        {a && message.kind === 'image' && <ImageAttachment attachment={a} />}
        {a && message.kind === 'audio' && <AudioAttachment attachment={a} />}
        {a && message.kind === 'file' && <FileCard name={a.name} mime={a.mime} size={a.size} url={a.url} />}
        {!a && p && <FileCard name={p.name} mime={p.mime} size={p.size} />}
        {message.body && (
          <Typography variant="body2" data-testid="message-text" dir="auto" sx={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
            <Linkified text={message.body} />
          </Typography>
        )}
        {!own && message.body && message.seq !== null && <TranslateButton text={message.body} />}
        {/* Dimmed on the grey bubble only: white at 80 % on the blue bubble fell below 4.5:1 for 11 px text. */}
        <Box sx={{ alignSelf: 'flex-end', display: 'flex', alignItems: 'center', opacity: own ? 1 : 0.8 }}>
          <Typography variant="caption" component="time" dateTime={message.created_at} sx={{ fontSize: 11 }}>
            {time}
          </Typography>
          {own && status && <StatusIcon status={status} />}
        </Box>
      </Box>
      {own && status === 'failed' && (
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, mt: 0.5 }}>
          <Typography variant="caption" color="error">
            {errorText ?? t(STATUS_MESSAGES.failed)}
          </Typography>
          {onRetry && (
            <Button size="small" onClick={onRetry} aria-label={t(m.retryLabel)} data-testid="retry-button">
              {t(m.retry)}
            </Button>
          )}
          {onDiscard && (
            <Button size="small" color="inherit" onClick={onDiscard} aria-label={t(m.discardLabel)}>
              {t(m.discard)}
            </Button>
          )}
        </Box>
      )}
    </Box>
  );
}
