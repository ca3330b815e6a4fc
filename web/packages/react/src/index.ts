// @omw-chat/react: the chat as React/MUI components. Wrap them in <ChatEnvProvider getToken>;
// the state comes from an @omw-chat/client ChatClient.
export { ChatWindow, closedNoticeText, type ChatWindowProps } from './ChatWindow';
export { ChatHeader, statusText, BOOKING_STATUS_LABEL } from './ChatHeader';
export { MessageBubble, type BubbleMessage } from './MessageBubble';
export { ChatInput, type SendFileMeta } from './ChatInput';
export { ChatDialog } from './ChatDialog';
export { ChatEnvProvider, useChatEnv, type ChatEnv } from './context';
export { useChatState, useClientState, useAuthMedia } from './hooks';
