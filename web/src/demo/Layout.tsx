import type { ReactNode } from 'react';
import { useIntl } from 'react-intl';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Link from '@mui/material/Link';
import NativeSelect from '@mui/material/NativeSelect';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import TranslateIcon from '@mui/icons-material/Translate';
import { PSEUDO_LOCALE, SUPPORTED_LOCALES, matchLocale } from '@omw-chat/react';
import { useDemoLocale } from '../i18n';

/** Each language by its own name (Deutsch, العربية), from Intl; the pseudo-locale by a message. */
function LanguageSwitcher() {
  const intl = useIntl();
  const { choice, setChoice } = useDemoLocale();
  const name = (l: string) => (l === PSEUDO_LOCALE ? intl.formatMessage({ id: 'demo.language.pseudo', defaultMessage: 'Pseudo-locale' }) : (new Intl.DisplayNames([l], { type: 'language' }).of(l) ?? l));
  return (
    // On a phone the menu takes a line of its own, so the title and "Signed in as …" keep theirs.
    <Box sx={{ display: 'flex', alignItems: 'center', gap: 0.5, flexBasis: { xs: '100%', sm: 'auto' }, justifyContent: 'flex-end', mt: { xs: -1, sm: 0 } }}>
      <TranslateIcon fontSize="small" aria-hidden />
      <NativeSelect
        value={choice ?? ''}
        onChange={(e) => setChoice(matchLocale(e.target.value))}
        disableUnderline
        inputProps={{ 'aria-label': intl.formatMessage({ id: 'demo.language.label', defaultMessage: 'Language' }), ...{ 'data-testid': 'language-switcher' } }}
        sx={{ color: 'inherit', fontSize: 14, '& svg': { color: 'inherit' }, '& option': { color: 'text.primary' } }}
      >
        <option value="">{intl.formatMessage({ id: 'demo.language.auto', defaultMessage: 'Automatic' })}</option>
        {SUPPORTED_LOCALES.map((l) => (
          <option key={l} value={l} lang={l}>
            {name(l)}
          </option>
        ))}
      </NativeSelect>
    </Box>
  );
}

export function Layout({ title, subtitle, children }: { title: string; subtitle?: string; children: ReactNode }) {
  const intl = useIntl();
  return (
    <Box sx={{ minHeight: '100vh', bgcolor: 'grey.50' }}>
      <AppBar position="static" elevation={0}>
        <Toolbar sx={{ gap: 2, flexWrap: { xs: 'wrap', sm: 'nowrap' }, pt: { xs: 1, sm: 0 } }}>
          <Link
            href="/"
            color="inherit"
            underline="none"
            sx={{ fontWeight: 700, letterSpacing: 0.5 }}
            aria-label={intl.formatMessage({ id: 'demo.home_label', defaultMessage: 'OMW demo home' })}
          >
            {intl.formatMessage({ id: 'demo.brand', defaultMessage: 'OMW' })}
          </Link>
          {/* On a phone the title and "Signed in as …" stack, so neither is cut to a few letters. */}
          <Box sx={{ flex: 1, minWidth: 0, display: 'flex', flexDirection: { xs: 'column', sm: 'row' }, alignItems: { xs: 'flex-start', sm: 'center' }, gap: { xs: 0, sm: 2 } }}>
            <Typography variant="h6" component="h1" sx={{ flex: { sm: 1 }, maxWidth: '100%', fontSize: { xs: 16, sm: 20 }, lineHeight: { xs: 1.3, sm: 1.6 } }} noWrap>
              {title}
            </Typography>
            {subtitle && (
              <Typography variant="body2" sx={{ maxWidth: '100%', fontSize: { xs: 12, sm: 14 } }} noWrap>
                {subtitle}
              </Typography>
            )}
          </Box>
          <LanguageSwitcher />
        </Toolbar>
      </AppBar>
      <Container maxWidth="md" sx={{ py: { xs: 2, sm: 4 }, px: { xs: 1.5, sm: 3 } }}>
        {children}
      </Container>
    </Box>
  );
}
