// The packages' declarations as a project with `moduleResolution: "nodenext"` sees them (a
// Node server, an SSR framework): every name resolves and has its type.
import { ChatClient, tokenExpiry, type ChatState, type Message, type User } from '@omw-chat/client';
import { ChatDialog, ChatEnvProvider, ChatWindow, type ChatWindowProps } from '@omw-chat/react';

const user: User = { id: 'u1', name: 'Alice', role: 'customer' };
const client = new ChatClient({ user, getToken: async () => 'token', storage: null });
const props: ChatWindowProps = { client, chatId: 'c1' };
const last = (s: ChatState | undefined): Message | undefined => s?.messages.at(-1);
export const checked = [props, last, tokenExpiry, ChatDialog, ChatEnvProvider, ChatWindow] as const;
