export { ChatWindow, closedNoticeText } from './ChatWindow';
export { ChatHeader, statusText, BOOKING_STATUS_LABEL } from './ChatHeader';
export { MessageBubble, type BubbleMessage } from './MessageBubble';
export { ChatInput, type SendFileMeta } from './ChatInput';
export { ChatDialog } from './ChatDialog';
export { ChatEnvProvider, useChatEnv } from './context';
export { useChatState, useClientState, useAuthMedia } from './hooks';
