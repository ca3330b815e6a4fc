import { describe, expect, test, vi } from 'vitest';
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { ChatClient } from '@omw-chat/client';
import { FakeServer, ME, OTHER } from '../../../test/fakeServer';
import type { FakeSocket } from '../../../test/fakeSocket';
import { ChatEnvProvider } from './context';
import { ChatHeader } from './ChatHeader';
import { ChatInput } from './ChatInput';
import { ChatWindow } from './ChatWindow';
import { MessageBubble, type BubbleMessage } from './MessageBubble';

const fetchMedia = vi.fn(async (url: string) => `blob:test${url}`);

function Env({ children }: { children: ReactNode }) {
  return (
    <ChatEnvProvider getToken={() => 'token'} fetchMedia={fetchMedia}>
      {children}
    </ChatEnvProvider>
  );
}

const base: BubbleMessage = {
  key: 'k',
  seq: 7,
  kind: 'text',
  body: 'hello',
  attachment: null,
  sender: { id: OTHER.id, name: OTHER.name, role: 'worker' },
  created_at: '2025-01-01T12:34:00.000Z',
};

const att = (over: Partial<NonNullable<BubbleMessage['attachment']>>) => ({
  id: 'a1',
  name: 'file',
  mime: 'application/pdf',
  size: 2048,
  url: '/api/v1/attachments/a1',
  ...over,
});

describe('MessageBubble', () => {
  test('text is shown as text, never as HTML, with links clickable', () => {
    const body = '<script>alert(1)</script> <b>bold</b> see https://example.com/x.';
    const { container } = render(
      <Env>
        <MessageBubble message={{ ...base, body }} own={false} />
      </Env>,
    );
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(screen.getByTestId('message-text')).toHaveTextContent('<script>alert(1)</script> <b>bold</b>');
    const link = screen.getByRole('link', { name: 'https://example.com/x' });
    expect(link).toHaveAttribute('href', 'https://example.com/x');
    expect(link).toHaveAttribute('rel', expect.stringContaining('noopener'));
  });

  test('own messages show their delivery status and failed ones offer a retry', async () => {
    const onRetry = vi.fn();
    const { rerender } = render(
      <Env>
        <MessageBubble message={base} own status="read" />
      </Env>,
    );
    expect(screen.getByTestId('message-bubble')).toHaveAttribute('data-status', 'read');
    expect(screen.getByRole('img', { name: 'Read' })).toBeInTheDocument();
    rerender(
      <Env>
        <MessageBubble message={{ ...base, seq: null }} own status="failed" onRetry={onRetry} />
      </Env>,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Retry sending' }));
    expect(onRetry).toHaveBeenCalled();
  });

  test('image: a thumbnail loaded with the token, full size on click', async () => {
    render(
      <Env>
        <MessageBubble message={{ ...base, kind: 'image', body: null, attachment: att({ name: 'sink.jpg', mime: 'image/jpeg', thumb_url: '/api/v1/attachments/a1/thumb' }) }} own={false} />
      </Env>,
    );
    const img = await screen.findByTestId('image-thumb');
    expect(img).toHaveAttribute('src', 'blob:test/api/v1/attachments/a1/thumb');
    await userEvent.click(screen.getByRole('button', { name: 'Open image sink.jpg' }));
    await waitFor(() => expect(fetchMedia).toHaveBeenCalledWith('/api/v1/attachments/a1'));
  });

  test('file: a card with name, size and a download button', () => {
    render(
      <Env>
        <MessageBubble message={{ ...base, kind: 'file', body: null, attachment: att({ name: 'quote.pdf', size: 2048 }) }} own={false} />
      </Env>,
    );
    expect(screen.getByTestId('file-card')).toHaveTextContent('quote.pdf');
    expect(screen.getByTestId('file-card')).toHaveTextContent('2.0 kB');
    expect(screen.getByRole('button', { name: 'Download quote.pdf' })).toBeEnabled();
  });

  test('audio: a player for the voice note', async () => {
    render(
      <Env>
        <MessageBubble message={{ ...base, kind: 'audio', body: null, attachment: att({ name: 'voice.webm', mime: 'audio/webm', duration_ms: 4200 }) }} own />
      </Env>,
    );
    const player = await screen.findByTestId('audio-player');
    expect(player.tagName).toBe('AUDIO');
    expect(player).toHaveAttribute('src', 'blob:test/api/v1/attachments/a1');
    expect(screen.getByText('0:04')).toBeInTheDocument();
  });

  test('system messages are centred notices', () => {
    render(
      <Env>
        <MessageBubble message={{ ...base, kind: 'system', body: 'Bob is on the way', sender: { id: 'system', name: 'OMW', role: 'system' } }} own={false} />
      </Env>,
    );
    expect(screen.getByTestId('message-bubble')).toHaveAttribute('data-kind', 'system');
    expect(screen.getByText(/Bob is on the way/)).toBeInTheDocument();
  });
});

describe('ChatHeader', () => {
  test('name, role, online / last seen and typing', () => {
    const { rerender } = render(<ChatHeader name="Bob" role="worker" online lastSeen={null} typing={false} bookingStatus="en_route" onClose={() => {}} />);
    expect(screen.getByText('Bob')).toBeInTheDocument();
    expect(screen.getByText(/Service provider/)).toBeInTheDocument();
    expect(screen.getByTestId('online-status')).toHaveTextContent('Online');
    expect(screen.getByRole('button', { name: 'Close chat' })).toBeInTheDocument();
    rerender(<ChatHeader name="Bob" role="worker" online={false} lastSeen={new Date(Date.now() - 5 * 60_000).toISOString()} typing={false} />);
    expect(screen.getByTestId('online-status')).toHaveTextContent('Last seen 5 minutes ago');
    rerender(<ChatHeader name="Bob" role="worker" online typing lastSeen={null} />);
    expect(screen.getByTestId('typing-indicator')).toHaveTextContent('Bob is typing');
  });
});

describe('ChatInput', () => {
  test('Enter sends, Shift+Enter inserts a newline', async () => {
    const onSendText = vi.fn();
    render(<ChatInput onSendText={onSendText} />);
    const input = screen.getByRole('textbox', { name: 'Message' });
    await userEvent.type(input, 'first line{Shift>}{Enter}{/Shift}second line');
    expect(onSendText).not.toHaveBeenCalled();
    expect(input).toHaveValue('first line\nsecond line');
    await userEvent.type(input, '{Enter}');
    expect(onSendText).toHaveBeenCalledWith('first line\nsecond line');
    expect(input).toHaveValue('');
  });

  test('blank input does not send; the send button works', async () => {
    const onSendText = vi.fn();
    render(<ChatInput onSendText={onSendText} />);
    const input = screen.getByRole('textbox', { name: 'Message' });
    await userEvent.type(input, '   {Enter}');
    expect(onSendText).not.toHaveBeenCalled();
    await userEvent.type(input, 'hi');
    await userEvent.click(screen.getByRole('button', { name: 'Send message' }));
    expect(onSendText).toHaveBeenCalledWith('   hi');
  });

  test('a closed chat disables the input with an explanation', () => {
    render(<ChatInput onSendText={vi.fn()} closedNotice="This chat is closed because the service was completed." />);
    expect(screen.getByTestId('chat-closed-notice')).toHaveTextContent('service was completed');
    expect(screen.getByRole('textbox', { name: 'Message' })).toBeDisabled();
    expect(screen.queryByRole('button', { name: 'Send message' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Attach file' })).toBeNull();
  });

  test('files are checked for type and size before upload', async () => {
    const onSendFile = vi.fn(async (_f: File, _k: string, progress: (x: number) => void) => progress(1));
    render(<ChatInput onSendText={vi.fn()} onSendFile={onSendFile} />);
    const input = screen.getByTestId('file-input') as HTMLInputElement;
    const big = new File(['x'], 'huge.pdf', { type: 'application/pdf' });
    Object.defineProperty(big, 'size', { value: 11 * 1024 * 1024 });
    await userEvent.upload(input, big, { applyAccept: false });
    expect(await screen.findByTestId('input-error')).toHaveTextContent('at most 10 MB');
    await userEvent.upload(input, new File(['<svg/>'], 'x.svg', { type: 'image/svg+xml' }), { applyAccept: false });
    expect(await screen.findByTestId('input-error')).toHaveTextContent('cannot be sent');
    expect(onSendFile).not.toHaveBeenCalled();
    await userEvent.upload(input, new File(['jpeg'], 'photo.jpg', { type: 'image/jpeg' }));
    await waitFor(() => expect(onSendFile).toHaveBeenCalledWith(expect.any(File), 'image', expect.any(Function)));
  });

  test('every control has an accessible name', () => {
    render(<ChatInput onSendText={vi.fn()} onSendFile={vi.fn()} />);
    for (const name of ['Attach file', 'Record voice note', 'Send message']) expect(screen.getByRole('button', { name })).toBeInTheDocument();
  });
});

describe('ChatWindow', () => {
  test('shows the history, sends, and disables the input when the chat closes', async () => {
    const server = new FakeServer();
    server.add('hello <i>Alice</i>');
    let socket!: FakeSocket;
    const client = new ChatClient({ user: ME, getToken: () => 'token', socketFactory: () => (socket = server.socket()) });
    client.connect();
    await act(async () => {
      await client.join({ chat_id: 'chat1' });
    });
    render(
      <Env>
        <ChatWindow client={client} chatId="chat1" />
      </Env>,
    );
    expect(screen.getByText('Bob')).toBeInTheDocument();
    const bubbles = screen.getAllByTestId('message-bubble');
    expect(bubbles.map((b) => b.getAttribute('data-seq'))).toEqual(['1', '2']);
    expect(screen.getByText('hello <i>Alice</i>')).toBeInTheDocument();
    expect(screen.getByTestId('unread-marker')).toBeInTheDocument();
    await userEvent.type(screen.getByRole('textbox', { name: 'Message' }), 'on my way?{Enter}');
    await waitFor(() => expect(screen.getAllByTestId('message-bubble').at(-1)).toHaveAttribute('data-status', 'sent'));
    expect(screen.getAllByTestId('message-bubble').at(-1)).toHaveAttribute('data-seq', '3');
    act(() => socket.fire('chat_closed', { chat_id: 'chat1', booking_id: 'b1', reason: 'completed' }));
    expect(screen.getByTestId('chat-closed-notice')).toHaveTextContent('completed');
    expect(screen.getByRole('textbox', { name: 'Message' })).toBeDisabled();
    client.close();
  });
});
