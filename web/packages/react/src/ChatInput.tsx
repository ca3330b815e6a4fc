import { useCallback, useEffect, useRef, useState, type ClipboardEvent, type KeyboardEvent } from 'react';
import { useDropzone } from 'react-dropzone';
import Alert from '@mui/material/Alert';
import Box from '@mui/material/Box';
import IconButton from '@mui/material/IconButton';
import InputBase from '@mui/material/InputBase';
import LinearProgress from '@mui/material/LinearProgress';
import Tooltip from '@mui/material/Tooltip';
import Typography from '@mui/material/Typography';
import AttachFileIcon from '@mui/icons-material/AttachFile';
import DeleteIcon from '@mui/icons-material/Delete';
import LockIcon from '@mui/icons-material/Lock';
import MicIcon from '@mui/icons-material/Mic';
import SendIcon from '@mui/icons-material/Send';
import StopIcon from '@mui/icons-material/Stop';
import { type MessageDescriptor } from 'react-intl';
import { defineMessages } from './i18n/define';
import type { SendKind } from '@omw-chat/client';
import { ACCEPT_ATTRIBUTE, allowedMime, kindForMime, validateFile, type FileProblem } from './files';
import { errorOf, errorText } from './i18n/errors';
import { fileSize } from './i18n/format';
import { useChatI18n, type ChatI18n } from './i18n/I18nProvider';

const m = defineMessages({
  tooLarge: { id: 'input.file.too_large', defaultMessage: '“{name}” is {size}; files can be at most {max}.' },
  empty: { id: 'input.file.empty', defaultMessage: '“{name}” is empty.' },
  type: {
    id: 'input.file.type',
    defaultMessage: '“{name}” cannot be sent. Allowed: photos (JPEG, PNG, GIF, WebP), PDF, Word/Excel/PowerPoint, ODT, TXT and audio.',
  },
  sendFailed: { id: 'input.file.send_failed', defaultMessage: 'Could not send “{name}”: {reason}' },
  tooLong: {
    id: 'input.too_long',
    defaultMessage: 'Messages can be at most {max, plural, one {# character} other {# characters}}.',
  },
  noRecording: { id: 'input.voice.unsupported', defaultMessage: 'Voice notes are not supported in this browser.' },
  micDenied: { id: 'input.voice.denied', defaultMessage: 'Microphone access was denied or is unavailable.' },
  disabled: { id: 'input.disabled', defaultMessage: 'Messaging is disabled' },
  message: { id: 'input.message_label', defaultMessage: 'Message' },
  attachFiles: { id: 'input.attach_files', defaultMessage: 'Attach files' },
  drop: { id: 'input.drop', defaultMessage: 'Drop files to send' },
  uploading: { id: 'input.uploading', defaultMessage: 'Uploading {name}… {percent}' },
  uploadingLabel: { id: 'input.uploading_label', defaultMessage: 'Uploading {name}' },
  recording: { id: 'input.voice.recording', defaultMessage: 'Recording {elapsed}' },
  cancelRecording: { id: 'input.voice.cancel', defaultMessage: 'Cancel recording' },
  stopAndSend: { id: 'input.voice.stop_and_send', defaultMessage: 'Stop and send voice note' },
  attachTip: { id: 'input.attach_tooltip', defaultMessage: 'Attach a file' },
  attach: { id: 'input.attach', defaultMessage: 'Attach file' },
  placeholder: { id: 'input.placeholder', defaultMessage: 'Write a message…' },
  recordTip: { id: 'input.voice.record_tooltip', defaultMessage: 'Record a voice note' },
  record: { id: 'input.voice.record', defaultMessage: 'Record voice note' },
  sendTip: { id: 'input.send_tooltip', defaultMessage: 'Send (Enter)' },
  send: { id: 'input.send', defaultMessage: 'Send message' },
  count: { id: 'input.count', defaultMessage: '{count}/{max}' },
});

/** A problem shown above the input, worded when rendered (so a language switch rewords it). */
type InputError = (i18n: ChatI18n) => string;

const say =
  (d: MessageDescriptor, values?: Record<string, string | number>): InputError =>
  (i18n) =>
    i18n.intl.formatMessage(d, values);

function fileProblem(p: FileProblem): InputError {
  if (p.reason === 'too_large') return (i18n) => i18n.intl.formatMessage(m.tooLarge, { name: p.name, size: fileSize(i18n, p.size), max: fileSize(i18n, p.max) });
  return say(p.reason === 'empty' ? m.empty : m.type, { name: p.name });
}

function sendFailed(name: string, err: unknown): InputError {
  return (i18n) => i18n.intl.formatMessage(m.sendFailed, { name, reason: errorText(i18n.intl, errorOf(err)) });
}

export interface ChatInputProps {
  onSendText: (text: string) => void;
  /**
   * Upload and send a validated file; report progress 0..1. On failure reject with an error that
   * has a `code` (an ApiError, or an UploadError whose `error` has one): the reader sees the
   * code's text in their language, never the error's English message.
   * `meta.durationMs` comes with a recorded voice note.
   */
  onSendFile?: (file: File, kind: SendKind, onProgress: (fraction: number) => void, meta?: SendFileMeta) => Promise<void>;
  onTyping?: () => void;
  onStopTyping?: () => void;
  /** When set, the chat is closed and the input is disabled with this explanation. */
  closedNotice?: string | null;
  /** Disabled for another reason (e.g. not connected yet), shown as a hint. */
  disabledHint?: string | null;
  maxLength?: number;
}

export interface SendFileMeta {
  /** A recorded voice note's length. */
  durationMs?: number;
}

const MAX_RECORDING_MS = 5 * 60 * 1000;

function pickAudioMime(): string | undefined {
  if (typeof MediaRecorder === 'undefined' || typeof MediaRecorder.isTypeSupported !== 'function') return undefined;
  return ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'].find((t) => MediaRecorder.isTypeSupported(t));
}

const canRecord = (): boolean =>
  typeof window !== 'undefined' && typeof MediaRecorder !== 'undefined' && typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia;

function elapsedLabel(ms: number): string {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** Text input with Enter to send, attachments (button, drag-and-drop, paste) and voice notes. */
export function ChatInput({ onSendText, onSendFile, onTyping, onStopTyping, closedNotice, disabledHint, maxLength = 4000 }: ChatInputProps) {
  const i18n = useChatI18n();
  const t = i18n.intl.formatMessage;
  const [text, setText] = useState('');
  const [error, setError] = useState<InputError | null>(null);
  const [upload, setUpload] = useState<{ name: string; progress: number } | null>(null);
  const [recording, setRecording] = useState<{ startedAt: number; elapsed: number } | null>(null);
  const recorderRef = useRef<MediaRecorder | null>(null);
  const chunksRef = useRef<Blob[]>([]);
  const cancelledRef = useRef(false);
  const streamRef = useRef<MediaStream | null>(null);
  const startedAtRef = useRef(0);
  const closed = Boolean(closedNotice);
  const disabled = closed || Boolean(disabledHint);

  const sendFiles = useCallback(
    async (files: File[], meta?: SendFileMeta) => {
      setError(null);
      if (!onSendFile || files.length === 0) return;
      for (const file of files) {
        const problem = validateFile(file);
        if (problem) {
          setError(() => fileProblem(problem));
          continue;
        }
        const mime = allowedMime(file)!;
        setUpload({ name: file.name, progress: 0 });
        try {
          const onProgress = (progress: number) => setUpload({ name: file.name, progress });
          await (meta ? onSendFile(file, kindForMime(mime), onProgress, meta) : onSendFile(file, kindForMime(mime), onProgress));
        } catch (err) {
          setError(() => sendFailed(file.name, err));
        } finally {
          setUpload(null);
        }
      }
    },
    [onSendFile],
  );

  const { getRootProps, getInputProps, isDragActive, open } = useDropzone({
    noClick: true,
    noKeyboard: true,
    multiple: true,
    disabled: disabled || !onSendFile,
    // Validation happens in sendFiles so that the user gets one clear message.
    onDrop: (accepted, rejected) => void sendFiles([...accepted, ...rejected.map((r) => r.file)]),
  });

  const submit = () => {
    const value = text;
    if (!value.trim() || disabled) return;
    if (value.length > maxLength) {
      setError(() => say(m.tooLong, { max: maxLength }));
      return;
    }
    onSendText(value);
    setText('');
    setError(null);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement | HTMLInputElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  const onPaste = (e: ClipboardEvent) => {
    const files = Array.from(e.clipboardData?.files ?? []);
    if (files.length > 0) {
      e.preventDefault();
      void sendFiles(files);
    }
  };

  // Recording timer and the limit.
  useEffect(() => {
    if (!recording) return;
    const t = setInterval(() => {
      const elapsed = Date.now() - recording.startedAt;
      setRecording((r) => (r ? { ...r, elapsed } : r));
      if (elapsed >= MAX_RECORDING_MS) recorderRef.current?.stop();
    }, 250);
    return () => clearInterval(t);
  }, [recording]);

  // Stop the microphone when unmounted.
  useEffect(
    () => () => {
      cancelledRef.current = true;
      if (recorderRef.current?.state === 'recording') recorderRef.current.stop();
      streamRef.current?.getTracks().forEach((t) => t.stop());
    },
    [],
  );

  const startRecording = async () => {
    setError(null);
    if (!canRecord()) {
      setError(() => say(m.noRecording));
      return;
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      streamRef.current = stream;
      const mimeType = pickAudioMime();
      const rec = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
      chunksRef.current = [];
      cancelledRef.current = false;
      rec.ondataavailable = (e) => {
        if (e.data.size > 0) chunksRef.current.push(e.data);
      };
      rec.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        streamRef.current = null;
        recorderRef.current = null;
        setRecording(null);
        if (cancelledRef.current) return;
        const type = (rec.mimeType || mimeType || 'audio/webm').split(';')[0]!;
        const ext = type === 'audio/ogg' ? 'ogg' : type === 'audio/mp4' ? 'm4a' : 'webm';
        const blob = new Blob(chunksRef.current, { type });
        const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
        void sendFiles([new File([blob], `voice-note-${stamp}.${ext}`, { type })], { durationMs: Date.now() - startedAtRef.current });
      };
      recorderRef.current = rec;
      rec.start(250);
      startedAtRef.current = Date.now();
      setRecording({ startedAt: startedAtRef.current, elapsed: 0 });
    } catch {
      setError(() => say(m.micDenied));
    }
  };

  const stopRecording = (cancel: boolean) => {
    cancelledRef.current = cancel;
    recorderRef.current?.stop();
  };

  if (closed) {
    return (
      <Box sx={{ borderTop: 1, borderColor: 'divider', p: 1.5 }}>
        <Alert severity="info" icon={<LockIcon fontSize="inherit" />} data-testid="chat-closed-notice" role="status">
          {closedNotice}
        </Alert>
        <InputBase
          value=""
          disabled
          fullWidth
          placeholder={t(m.disabled)}
          inputProps={{ 'aria-label': t(m.message), 'data-testid': 'chat-input' }}
          sx={{ mt: 1, px: 1 }}
        />
      </Box>
    );
  }

  return (
    <Box
      {...getRootProps({ onPaste })}
      sx={{ borderTop: 1, borderColor: 'divider', p: 1, position: 'relative', bgcolor: isDragActive ? 'action.hover' : 'background.paper' }}
    >
      <input {...getInputProps({ 'aria-label': t(m.attachFiles), accept: ACCEPT_ATTRIBUTE })} data-testid="file-input" />
      {isDragActive && (
        <Typography variant="body2" sx={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', justifyContent: 'center', zIndex: 1, fontWeight: 600, pointerEvents: 'none' }}>
          {t(m.drop)}
        </Typography>
      )}
      {error && (
        <Alert severity="warning" onClose={() => setError(null)} sx={{ mb: 1 }} data-testid="input-error">
          {error(i18n)}
        </Alert>
      )}
      {upload && (
        <Box sx={{ mb: 1 }} data-testid="upload-progress">
          <Typography variant="caption" noWrap component="div">
            {t(m.uploading, { name: upload.name, percent: i18n.intl.formatNumber(upload.progress, { style: 'percent' }) })}
          </Typography>
          <LinearProgress variant="determinate" value={upload.progress * 100} aria-label={t(m.uploadingLabel, { name: upload.name })} />
        </Box>
      )}
      {disabledHint && (
        <Typography variant="caption" color="text.secondary" component="div" sx={{ px: 1 }}>
          {disabledHint}
        </Typography>
      )}
      {recording ? (
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 1, px: 1, minHeight: 48 }}>
          <Box aria-hidden sx={{ width: 10, height: 10, borderRadius: '50%', bgcolor: 'error.main' }} />
          <Typography variant="body2" sx={{ flex: 1 }} data-testid="recording-timer" aria-live="off">
            {t(m.recording, { elapsed: elapsedLabel(recording.elapsed) })}
          </Typography>
          <Tooltip title={t(m.cancelRecording)}>
            <IconButton aria-label={t(m.cancelRecording)} onClick={() => stopRecording(true)}>
              <DeleteIcon />
            </IconButton>
          </Tooltip>
          <Tooltip title={t(m.stopAndSend)}>
            <IconButton aria-label={t(m.stopAndSend)} color="primary" onClick={() => stopRecording(false)} data-testid="record-stop">
              <StopIcon />
            </IconButton>
          </Tooltip>
        </Box>
      ) : (
        <Box sx={{ display: 'flex', alignItems: 'flex-end', gap: 0.5 }}>
          <Tooltip title={t(m.attachTip)}>
            <span>
              <IconButton aria-label={t(m.attach)} onClick={open} disabled={disabled || !onSendFile || !!upload} data-testid="attach-button">
                <AttachFileIcon />
              </IconButton>
            </span>
          </Tooltip>
          <InputBase
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              if (e.target.value.trim()) onTyping?.();
              else onStopTyping?.();
            }}
            onKeyDown={onKeyDown}
            onBlur={() => onStopTyping?.()}
            multiline
            maxRows={5}
            fullWidth
            disabled={disabled}
            placeholder={t(m.placeholder)}
            inputProps={{ 'aria-label': t(m.message), 'data-testid': 'chat-input', maxLength: maxLength + 1, dir: 'auto' }}
            sx={{ px: 1.5, py: 1, borderRadius: 3, bgcolor: 'action.hover', flex: 1 }}
          />
          <Tooltip title={t(m.recordTip)}>
            <span>
              <IconButton aria-label={t(m.record)} onClick={() => void startRecording()} disabled={disabled || !onSendFile || !!upload} data-testid="record-button">
                <MicIcon />
              </IconButton>
            </span>
          </Tooltip>
          <Tooltip title={t(m.sendTip)}>
            <span>
              <IconButton aria-label={t(m.send)} color="primary" onClick={submit} disabled={disabled || !text.trim()} data-testid="send-button">
                {/* The arrow points the way the text runs. */}
                <SendIcon sx={i18n.dir === 'rtl' ? { transform: 'scaleX(-1)' } : undefined} />
              </IconButton>
            </span>
          </Tooltip>
        </Box>
      )}
      {error === null && upload === null && !recording && text.length > maxLength && (
        <Typography variant="caption" color="error" sx={{ px: 1 }}>
          {t(m.count, { count: i18n.intl.formatNumber(text.length), max: i18n.intl.formatNumber(maxLength) })}
        </Typography>
      )}
    </Box>
  );
}
