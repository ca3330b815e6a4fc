import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import PersonIcon from '@mui/icons-material/Person';
import EngineeringIcon from '@mui/icons-material/Engineering';
import { Layout } from './Layout';

export function StartPage() {
  return (
    <Layout title="Chat demo">
      <Typography variant="body1" sx={{ mb: 3 }}>
        Open the customer and the worker view in two windows (or two browsers) and play a booking's lifecycle: chat while the
        worker is on the way and working; completing the job closes the chat for both.
      </Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr' }, gap: 2 }}>
        <Card>
          <CardContent>
            <PersonIcon color="primary" aria-hidden />
            <Typography variant="h6" component="h2">
              Customer — Alice
            </Typography>
            <Typography variant="body2" color="text.secondary">
              Service tracking: booking timeline, provider card and the chat.
            </Typography>
          </CardContent>
          <CardActions>
            <Button variant="contained" href="/customer" data-testid="open-customer">
              Open customer view
            </Button>
            <Button href="/customer" target="_blank" rel="noopener">
              New window
            </Button>
          </CardActions>
        </Card>
        <Card>
          <CardContent>
            <EngineeringIcon color="secondary" aria-hidden />
            <Typography variant="h6" component="h2">
              Worker — Bob
            </Typography>
            <Typography variant="body2" color="text.secondary">
              Job tracking: status actions (on my way, start, complete) and the chat.
            </Typography>
          </CardContent>
          <CardActions>
            <Button variant="contained" color="secondary" href="/worker" data-testid="open-worker">
              Open worker view
            </Button>
            <Button href="/worker" target="_blank" rel="noopener" color="secondary">
              New window
            </Button>
          </CardActions>
        </Card>
      </Box>
    </Layout>
  );
}
