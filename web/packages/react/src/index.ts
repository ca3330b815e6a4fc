// @omw-chat/react: the chat as React/MUI components. Wrap them in <ChatEnvProvider getToken>;
// the state comes from an @omw-chat/client ChatClient. Texts through react-intl (FormatJS) in
// English, German, Arabic (right to left) and the pseudo-locale en-XA; see web/README.md.
export { ChatWindow, closedNoticeText, type ChatWindowProps } from './ChatWindow';
export { ChatHeader, statusText, bookingStatusText } from './ChatHeader';
export { MessageBubble, type BubbleMessage } from './MessageBubble';
export { ChatInput, type SendFileMeta } from './ChatInput';
export { ChatDialog, type ChatDialogProps } from './ChatDialog';
export { ChatEnvProvider, useChatEnv, type ChatEnv } from './context';
export { usePush, type PushControl, type PushStatus, type PushOutcome } from './push/PushProvider';
export { PushPrompt, PushToggle } from './push/PushControls';
export { useChatState, useClientState, useAuthMedia } from './hooks';
export { TranslateButton, onDeviceTranslationAvailable, onDeviceTranslationSupported, translateOnDevice } from './TranslateButton';
export { ChatIntlProvider, useChatI18n, type ChatI18n, type ChatIntlProviderProps } from './i18n/I18nProvider';
export { loadChatMessages, type ChatMessages } from './i18n/catalogs';
export {
  SUPPORTED_LOCALES,
  DEFAULT_LOCALE,
  PSEUDO_LOCALE,
  matchLocale,
  resolveLocale,
  browserLocales,
  localeDirection,
  type ChatLocale,
} from './i18n/locales';
export { errorText, errorOf, KNOWN_ERROR_CODES } from './i18n/errors';
export { systemText, KNOWN_SYSTEM_CODES } from './i18n/system';
export { timeOfDay, dayLabel, timeAgo, fileSize } from './i18n/format';
export { pseudoText } from './i18n/pseudoText';
export { pseudoCatalog } from './i18n/pseudo';
