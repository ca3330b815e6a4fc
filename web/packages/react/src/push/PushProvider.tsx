// Web push notifications (SPEC §9.2) for the page: one state for every chat window, asked for
// only when the user clicks (browsers punish a permission prompt on page load).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  debug,
  disablePush,
  enablePush,
  pushSupported,
  registerPushWorker,
  savePushSubscription,
  subscriptionRequest,
  tellPushWorkerLocale,
} from '@omw-chat/client';
import { useChatI18n } from '../i18n/I18nProvider';

/** `ask`: never asked; `off`: allowed, not subscribed; `blocked` by the browser's settings. */
export type PushStatus = 'unsupported' | 'ask' | 'off' | 'on' | 'blocked';

/** What the user's last click came to, for the prompt to say. */
export type PushOutcome = 'enabled' | 'blocked' | 'failed' | null;

export interface PushControl {
  status: PushStatus;
  busy: boolean;
  outcome: PushOutcome;
  /** The user closed the prompt or turned notifications off (remembered in localStorage). */
  dismissed: boolean;
  turnOn: () => Promise<void>;
  turnOff: () => Promise<void>;
  dismiss: () => void;
}

const DISMISSED_KEY = 'omw_chat_push_prompt_dismissed';
const PushContext = createContext<PushControl | null>(null);

/** The page's notifications; null when the host did not give a service worker. */
export function usePush(): PushControl | null {
  return useContext(PushContext);
}

function permissionStatus(): PushStatus {
  if (!pushSupported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  return Notification.permission === 'granted' ? 'off' : 'ask';
}

function readDismissed(): boolean {
  try {
    return localStorage.getItem(DISMISSED_KEY) === 'true';
  } catch {
    return false;
  }
}

export interface PushProviderProps {
  /** The service worker that shows the notifications. */
  serviceWorkerUrl: string;
  /** The chat server and token (ChatEnvProvider's). */
  baseUrl: string;
  getToken: () => string | Promise<string>;
  children: ReactNode;
}

export function PushProvider({ serviceWorkerUrl, baseUrl, getToken, children }: PushProviderProps) {
  const { locale } = useChatI18n();
  const api = useMemo(() => ({ baseUrl, getToken }), [baseUrl, getToken]);
  const [status, setStatus] = useState<PushStatus>(permissionStatus);
  const [registration, setRegistration] = useState<ServiceWorkerRegistration | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<PushOutcome>(null);
  const [dismissed, setDismissed] = useState(readDismissed);

  // Allowed on an earlier visit: is this browser still subscribed? Its subscription is stored
  // again, since until now it may have been another user's, or the push service renewed it.
  useEffect(() => {
    if (permissionStatus() !== 'off') return;
    let alive = true;
    (async () => {
      const reg = await registerPushWorker(serviceWorkerUrl);
      const sub = await reg.pushManager.getSubscription();
      if (!alive) return;
      setRegistration(reg);
      setStatus(sub ? 'on' : 'off');
      if (sub) await savePushSubscription(api, subscriptionRequest(sub));
    })().catch((err: unknown) => debug('push: checking the subscription failed', err));
    return () => {
      alive = false;
    };
  }, [serviceWorkerUrl, api]);

  useEffect(() => {
    if (registration) tellPushWorkerLocale(registration, locale);
  }, [registration, locale]);

  const dismiss = useCallback(() => {
    setOutcome(null);
    setDismissed(true);
    try {
      localStorage.setItem(DISMISSED_KEY, 'true');
    } catch {
      // private mode: dismissed for this page only
    }
  }, []);

  const turnOn = useCallback(async () => {
    setBusy(true);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        setStatus(permissionStatus());
        setOutcome(permission === 'denied' ? 'blocked' : null);
        return;
      }
      const reg = await registerPushWorker(serviceWorkerUrl);
      setRegistration(reg);
      await enablePush(reg, api);
      setStatus('on');
      setOutcome('enabled');
    } catch (err) {
      debug('push: turning on failed', err);
      setStatus(permissionStatus());
      setOutcome('failed');
    } finally {
      setBusy(false);
    }
  }, [serviceWorkerUrl, api]);

  const turnOff = useCallback(async () => {
    if (!registration) return;
    setBusy(true);
    try {
      await disablePush(registration, api);
      setStatus('off');
      dismiss();
    } catch (err) {
      debug('push: turning off failed', err);
    } finally {
      setBusy(false);
    }
  }, [registration, api, dismiss]);

  const value = useMemo<PushControl>(
    () => ({ status, busy, outcome, dismissed, turnOn, turnOff, dismiss }),
    [status, busy, outcome, dismissed, turnOn, turnOff, dismiss],
  );
  return <PushContext.Provider value={value}>{children}</PushContext.Provider>;
}
