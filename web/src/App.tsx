import { useMemo } from 'react';
import createCache from '@emotion/cache';
import { CacheProvider } from '@emotion/react';
import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider, createTheme } from '@mui/material/styles';
import { prefixer } from 'stylis';
import rtlPlugin from 'stylis-plugin-rtl';
import { ServiceTracking } from './demo/ServiceTracking';
import { StartPage } from './demo/StartPage';
import { WorkerJobTracking } from './demo/WorkerJobTracking';
import { DemoI18nProvider, useDemoLocale } from './i18n';

const themeOptions = {
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Noto Sans Arabic", sans-serif',
  },
  palette: { primary: { main: '#1f6feb' }, secondary: { main: '#7c3aed' } },
  shape: { borderRadius: 10 },
};

// Right to left (Arabic): MUI's theme direction, and an Emotion cache whose styles are flipped.
const rtlCache = createCache({ key: 'muirtl', stylisPlugins: [prefixer, rtlPlugin] });
const ltrCache = createCache({ key: 'mui' });

function Themed({ path }: { path: string }) {
  const { dir } = useDemoLocale();
  const theme = useMemo(() => createTheme({ ...themeOptions, direction: dir }), [dir]);
  const route = path.replace(/\/+$/, '') || '/';
  return (
    <CacheProvider value={dir === 'rtl' ? rtlCache : ltrCache}>
      <ThemeProvider theme={theme}>
        <CssBaseline />
        {route === '/customer' ? <ServiceTracking /> : route === '/worker' ? <WorkerJobTracking /> : <StartPage />}
      </ThemeProvider>
    </CacheProvider>
  );
}

export function App({ path = window.location.pathname }: { path?: string }) {
  return (
    <DemoI18nProvider>
      <Themed path={path} />
    </DemoI18nProvider>
  );
}
