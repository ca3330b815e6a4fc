import type { ReactNode } from 'react';
import AppBar from '@mui/material/AppBar';
import Box from '@mui/material/Box';
import Container from '@mui/material/Container';
import Link from '@mui/material/Link';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';

export function Layout({ title, subtitle, children }: { title: string; subtitle?: string; children: ReactNode }) {
  return (
    <Box sx={{ minHeight: '100vh', bgcolor: 'grey.50' }}>
      <AppBar position="static" elevation={0}>
        <Toolbar sx={{ gap: 2 }}>
          <Link href="/" color="inherit" underline="none" sx={{ fontWeight: 700, letterSpacing: 0.5 }} aria-label="OMW demo home">
            OMW
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
        </Toolbar>
      </AppBar>
      <Container maxWidth="md" sx={{ py: { xs: 2, sm: 4 }, px: { xs: 1.5, sm: 3 } }}>
        {children}
      </Container>
    </Box>
  );
}
