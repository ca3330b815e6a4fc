// @omw-chat/client: the framework-free omw-chat client (Socket.IO v4 with the contract of SPEC §4).
export * from './types';
export * from './client';
export * from './upload';
export {
  PushError,
  disablePush,
  enablePush,
  getVapidPublicKey,
  savePushSubscription,
  deletePushSubscription,
  subscriptionRequest,
  subscribedWithKey,
  pushSupported,
  type PushApiOptions,
} from './push';
export * from './pushWorker';
export { pageFocus, type FocusSource } from './presence';
export { mergeMessages } from './messages';
export type { OutboxEntry } from './outbox';
export { Store } from './store';
export { debug, debugEnabled } from './debug';
