import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider, createTheme } from '@mui/material/styles';
import { ServiceTracking } from './demo/ServiceTracking';
import { StartPage } from './demo/StartPage';
import { WorkerJobTracking } from './demo/WorkerJobTracking';

const theme = createTheme({
  typography: {
    fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif',
  },
  palette: { primary: { main: '#1f6feb' }, secondary: { main: '#7c3aed' } },
  shape: { borderRadius: 10 },
});

export function App({ path = window.location.pathname }: { path?: string }) {
  const route = path.replace(/\/+$/, '') || '/';
  return (
    <ThemeProvider theme={theme}>
      <CssBaseline />
      {route === '/customer' ? <ServiceTracking /> : route === '/worker' ? <WorkerJobTracking /> : <StartPage />}
    </ThemeProvider>
  );
}
