import { useEffect, type ReactNode } from 'react';
import Alert, { type AlertColor } from '@mui/material/Alert';
import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import IconButton from '@mui/material/IconButton';
import Tooltip from '@mui/material/Tooltip';
import CloseIcon from '@mui/icons-material/Close';
import NotificationsActiveIcon from '@mui/icons-material/NotificationsActive';
import NotificationsNoneIcon from '@mui/icons-material/NotificationsNone';
import NotificationsOffIcon from '@mui/icons-material/NotificationsOff';
import { defineMessages } from '../i18n/define';
import { useChatI18n } from '../i18n/I18nProvider';
import { usePush } from './PushProvider';

const m = defineMessages({
  prompt: { id: 'push.prompt', defaultMessage: 'Get notified of new messages while you’re away.' },
  turnOn: { id: 'push.turn_on', defaultMessage: 'Turn on' },
  dismiss: { id: 'push.dismiss', defaultMessage: 'Dismiss' },
  enabled: { id: 'push.enabled', defaultMessage: 'Notifications are on. You will be notified of new messages.' },
  blocked: { id: 'push.blocked', defaultMessage: 'Notifications are blocked. You can allow them in your browser’s settings for this site.' },
  failed: { id: 'push.failed', defaultMessage: 'Notifications could not be turned on. Please try again.' },
  tryAgain: { id: 'push.try_again', defaultMessage: 'Try again' },
  toggleOn: { id: 'push.toggle.turn_on', defaultMessage: 'Turn on notifications' },
  toggleOff: { id: 'push.toggle.turn_off', defaultMessage: 'Notifications are on. Turn them off' },
  toggleBlocked: { id: 'push.toggle.blocked', defaultMessage: 'Notifications are blocked in your browser’s settings' },
  toggleUnsupported: { id: 'push.toggle.unsupported', defaultMessage: 'This browser cannot show notifications' },
});

/**
 * Under the chat header: the offer to turn notifications on (until turned on or dismissed),
 * then what the click came to.
 */
export function PushPrompt() {
  const push = usePush();
  const t = useChatI18n().intl.formatMessage;
  // "Notifications are on" is said once: gone when this chat window closes.
  const acknowledge = push?.outcome === 'enabled' ? push.dismiss : null;
  useEffect(() => (acknowledge ? () => acknowledge() : undefined), [acknowledge]);
  if (!push) return null;
  const { status, outcome, dismissed, busy, turnOn, dismiss } = push;
  const offer = (label: string) => (
    <Button color="inherit" size="small" disabled={busy} onClick={() => void turnOn()} data-testid="push-enable" sx={{ fontWeight: 600, whiteSpace: 'nowrap' }}>
      {label}
    </Button>
  );
  let notice: { severity: AlertColor; text: string; action?: ReactNode } | null = null;
  if (outcome === 'enabled') notice = { severity: 'success', text: t(m.enabled) };
  else if (outcome === 'blocked') notice = { severity: 'warning', text: t(m.blocked) };
  else if (outcome === 'failed') notice = { severity: 'error', text: t(m.failed), action: offer(t(m.tryAgain)) };
  else if ((status === 'ask' || status === 'off') && !dismissed) notice = { severity: 'info', text: t(m.prompt), action: offer(t(m.turnOn)) };
  if (!notice) return null;
  return (
    <Alert
      severity={notice.severity}
      icon={notice.severity === 'info' ? <NotificationsNoneIcon fontSize="inherit" /> : undefined}
      role="status"
      data-testid="push-prompt"
      data-notice={outcome ?? 'offer'}
      sx={{ borderRadius: 0, alignItems: 'center', py: 0.25, '& .MuiAlert-action': { pt: 0, alignItems: 'center' } }}
      action={
        <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.5 }}>
          {notice.action}
          <IconButton color="inherit" size="small" aria-label={t(m.dismiss)} onClick={dismiss} data-testid="push-dismiss">
            <CloseIcon fontSize="small" />
          </IconButton>
        </Box>
      }
    >
      {notice.text}
    </Alert>
  );
}

/** The header's bell: notifications on or off, or why they cannot be. */
export function PushToggle() {
  const push = usePush();
  const t = useChatI18n().intl.formatMessage;
  if (!push) return null;
  const { status, busy, turnOn, turnOff } = push;
  const label = t(status === 'on' ? m.toggleOff : status === 'blocked' ? m.toggleBlocked : status === 'unsupported' ? m.toggleUnsupported : m.toggleOn);
  const icon = status === 'on' ? <NotificationsActiveIcon color="primary" /> : status === 'blocked' || status === 'unsupported' ? <NotificationsOffIcon /> : <NotificationsNoneIcon />;
  return (
    <Tooltip title={label}>
      {/* A disabled button gets no pointer events; the wrapper still shows the reason. */}
      <span>
        <IconButton
          aria-label={label}
          aria-pressed={status === 'on'}
          disabled={busy || status === 'blocked' || status === 'unsupported'}
          onClick={() => void (status === 'on' ? turnOff() : turnOn())}
          data-testid="push-toggle"
          data-state={status}
        >
          {icon}
        </IconButton>
      </span>
    </Tooltip>
  );
}
