import { afterEach, describe, expect, test, vi } from 'vitest';
import { render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { App } from './App';

describe('demo: language', () => {
  // A test that stops early must not leave its ?lang= to the next one.
  afterEach(() => {
    window.history.replaceState({}, '', '/');
    vi.restoreAllMocks();
  });

  test('?lang= chooses (and is remembered); the switcher changes it; Arabic turns the page right to left', async () => {
    window.history.replaceState({}, '', '/?lang=de');
    render(<App path="/" />);
    expect(await screen.findByRole('heading', { name: 'Chat-Demo' })).toBeInTheDocument();
    expect(screen.getByTestId('open-customer')).toHaveTextContent('Kundenansicht öffnen');
    // Set by an effect after the render.
    await waitFor(() => expect(document.documentElement).toHaveAttribute('lang', 'de'));
    await waitFor(() => expect(localStorage.getItem('omw_demo_locale')).toBe('de'));
    await userEvent.selectOptions(screen.getByTestId('language-switcher'), 'ar');
    expect(await screen.findByRole('heading', { name: 'عرض المحادثة' })).toBeInTheDocument();
    await waitFor(() => expect(document.documentElement).toHaveAttribute('dir', 'rtl'));
  });

  test('without a choice: the browser’s language', async () => {
    vi.spyOn(navigator, 'languages', 'get').mockReturnValue(['fr-FR', 'ar-EG']);
    render(<App path="/" />);
    expect(await screen.findByRole('heading', { name: 'عرض المحادثة' })).toBeInTheDocument();
    expect(screen.getByTestId('language-switcher')).toHaveValue('');
  });
});
