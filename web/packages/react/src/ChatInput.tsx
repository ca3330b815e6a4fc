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
import type { SendKind } from '@omw-chat/client';
import { ACCEPT_ATTRIBUTE, allowedMime, kindForMime, validateFile } from './files';

export interface ChatInputProps {
  onSendText: (text: string) => void;
  /**
   * Upload and send a validated file; report progress 0..1; reject with a message on failure.
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
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
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
          setError(problem);
          continue;
        }
        const mime = allowedMime(file)!;
        setUpload({ name: file.name, progress: 0 });
        try {
          const onProgress = (progress: number) => setUpload({ name: file.name, progress });
          await (meta ? onSendFile(file, kindForMime(mime), onProgress, meta) : onSendFile(file, kindForMime(mime), onProgress));
        } catch (err) {
          setError(err instanceof Error ? err.message : `Could not send "${file.name}"`);
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
      setError(`Messages can be at most ${maxLength} characters.`);
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
      setError('Voice notes are not supported in this browser.');
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
      setError('Microphone access was denied or is unavailable.');
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
          placeholder="Messaging is disabled"
          inputProps={{ 'aria-label': 'Message', 'data-testid': 'chat-input' }}
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
      <input {...getInputProps({ 'aria-label': 'Attach files', accept: ACCEPT_ATTRIBUTE })} data-testid="file-input" />
      {isDragActive && (
        <Typography variant="body2" sx={{ position: 'absolute', inset: 0, display: 'flex', alignItems: 'center', justifyContent: 'center', zIndex: 1, fontWeight: 600, pointerEvents: 'none' }}>
          Drop files to send
        </Typography>
      )}
      {error && (
        <Alert severity="warning" onClose={() => setError(null)} sx={{ mb: 1 }} data-testid="input-error">
          {error}
        </Alert>
      )}
      {upload && (
        <Box sx={{ mb: 1 }} data-testid="upload-progress">
          <Typography variant="caption" noWrap component="div">
            Uploading {upload.name}… {Math.round(upload.progress * 100)}%
          </Typography>
          <LinearProgress variant="determinate" value={upload.progress * 100} aria-label={`Uploading ${upload.name}`} />
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
            Recording {elapsedLabel(recording.elapsed)}
          </Typography>
          <Tooltip title="Cancel recording">
            <IconButton aria-label="Cancel recording" onClick={() => stopRecording(true)}>
              <DeleteIcon />
            </IconButton>
          </Tooltip>
          <Tooltip title="Stop and send voice note">
            <IconButton aria-label="Stop and send voice note" color="primary" onClick={() => stopRecording(false)} data-testid="record-stop">
              <StopIcon />
            </IconButton>
          </Tooltip>
        </Box>
      ) : (
        <Box sx={{ display: 'flex', alignItems: 'flex-end', gap: 0.5 }}>
          <Tooltip title="Attach a file">
            <span>
              <IconButton aria-label="Attach file" onClick={open} disabled={disabled || !onSendFile || !!upload} data-testid="attach-button">
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
            placeholder="Write a message…"
            inputProps={{ 'aria-label': 'Message', 'data-testid': 'chat-input', maxLength: maxLength + 1 }}
            sx={{ px: 1.5, py: 1, borderRadius: 3, bgcolor: 'action.hover', flex: 1 }}
          />
          <Tooltip title="Record a voice note">
            <span>
              <IconButton aria-label="Record voice note" onClick={() => void startRecording()} disabled={disabled || !onSendFile || !!upload} data-testid="record-button">
                <MicIcon />
              </IconButton>
            </span>
          </Tooltip>
          <Tooltip title="Send (Enter)">
            <span>
              <IconButton aria-label="Send message" color="primary" onClick={submit} disabled={disabled || !text.trim()} data-testid="send-button">
                <SendIcon />
              </IconButton>
            </span>
          </Tooltip>
        </Box>
      )}
      {error === null && upload === null && !recording && text.length > maxLength && (
        <Typography variant="caption" color="error" sx={{ px: 1 }}>
          {text.length}/{maxLength}
        </Typography>
      )}
    </Box>
  );
}
