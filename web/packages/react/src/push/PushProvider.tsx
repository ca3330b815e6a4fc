// Web push notifications (SPEC §9.2) for the page: one state for every chat window, asked for
// only when the user clicks (browsers punish a permission prompt on page load).
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  debug,
  disablePush,
  enablePush,
  getVapidPublicKey,
  pushSupported,
  registerPushWorker,
  savePushSubscription,
  subscribedWithKey,
  subscriptionRequest,
  tellPushWorkerLocale,
  tellPushWorkerPage,
  tokenClaims,
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
/** Who turned notifications on in this browser (`pushOwner`); the subscription is theirs. */
const OWNER_KEY = 'omw_chat_push_owner';
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

/**
 * The user of this token as `role:sub` (the JWT's claims, not verified: only to tell users of
 * one browser apart), else the page's path (a demo page stands for one user).
 */
export function pushOwner(token: string): string {
  const claims = tokenClaims(token);
  if (typeof claims?.role === 'string' && typeof claims.sub === 'string') return `${claims.role}:${claims.sub}`;
  return location.pathname;
}

function readOwner(): string | null {
  try {
    return localStorage.getItem(OWNER_KEY);
  } catch {
    return null;
  }
}

function writeOwner(owner: string | null): void {
  try {
    if (owner === null) localStorage.removeItem(OWNER_KEY);
    else localStorage.setItem(OWNER_KEY, owner);
  } catch {
    // private mode: the next page load shows notifications as off
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
  // The latest getToken, so that a new one (same user, new identity) does not run the check on
  // load again.
  const tokenRef = useRef(getToken);
  useEffect(() => {
    tokenRef.current = getToken;
  }, [getToken]);
  const api = useMemo(() => ({ baseUrl, getToken: async () => tokenRef.current() }), [baseUrl]);
  const [status, setStatus] = useState<PushStatus>(permissionStatus);
  const [registration, setRegistration] = useState<ServiceWorkerRegistration | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<PushOutcome>(null);
  const [dismissed, setDismissed] = useState(readDismissed);
  /** This page's user, once known (`pushOwner`). */
  const me = useRef<string | null>(null);

  // Allowed on an earlier visit: is this browser still subscribed, and for this user? The
  // server gives a subscription to whoever posted it last, so it is stored again only by the
  // user who turned notifications on (the push service may have renewed it); for anyone else
  // it shows as off, and turning on makes it theirs.
  useEffect(() => {
    if (permissionStatus() !== 'off') return;
    let alive = true;
    (async () => {
      const reg = await registerPushWorker(serviceWorkerUrl);
      const sub = await reg.pushManager.getSubscription();
      if (!alive) return;
      setRegistration(reg);
      if (!sub) return;
      const [key, owner] = await Promise.all([
        getVapidPublicKey(api).catch((err: unknown) => {
          // Unknown (server unreachable): the subscription is kept.
          debug('push: no VAPID key', err);
          return null;
        }),
        api.getToken().then(pushOwner),
      ]);
      if (!alive) return;
      me.current = owner;
      // Made for a replaced server key: the push service refuses every push to it.
      if (key && !subscribedWithKey(sub, key)) {
        await sub.unsubscribe();
        return;
      }
      if (readOwner() !== owner) return;
      setStatus('on');
      await savePushSubscription(api, subscriptionRequest(sub));
    })().catch((err: unknown) => debug('push: checking the subscription failed', err));
    return () => {
      alive = false;
    };
  }, [serviceWorkerUrl, api]);

  // Turned on (or off) in another tab of this browser by another user: the subscription is no
  // longer this user's.
  useEffect(() => {
    const onStorage = (e: StorageEvent) => {
      if (e.key === OWNER_KEY && e.newValue !== me.current) setStatus((s) => (s === 'on' ? 'off' : s));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

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
      const owner = pushOwner(await api.getToken());
      await enablePush(reg, api);
      me.current = owner;
      writeOwner(owner);
      // A click on a notification opens this page: its user's subscription now.
      tellPushWorkerPage(reg);
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
      writeOwner(null);
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
