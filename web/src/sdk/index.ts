export * from './types';
export * from './client';
export * from './upload';
export { mergeMessages } from './messages';
export type { OutboxEntry } from './outbox';
export { Store } from './store';
export { debug, debugEnabled } from './debug';
