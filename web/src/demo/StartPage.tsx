import Box from '@mui/material/Box';
import Button from '@mui/material/Button';
import Card from '@mui/material/Card';
import CardActions from '@mui/material/CardActions';
import CardContent from '@mui/material/CardContent';
import Typography from '@mui/material/Typography';
import PersonIcon from '@mui/icons-material/Person';
import EngineeringIcon from '@mui/icons-material/Engineering';
import { FormattedMessage, useIntl } from 'react-intl';
import { Layout } from './Layout';

export function StartPage() {
  const intl = useIntl();
  const newWindow = <FormattedMessage id="demo.start.new_window" defaultMessage="New window" />;
  return (
    <Layout title={intl.formatMessage({ id: 'demo.start.title', defaultMessage: 'Chat demo' })}>
      <Typography variant="body1" sx={{ mb: 3 }}>
        <FormattedMessage
          id="demo.start.intro"
          defaultMessage="Open the customer and the worker view in two windows (or two browsers) and play a booking's lifecycle: chat while the worker is on the way and working; completing the job closes the chat for both."
        />
      </Typography>
      <Box sx={{ display: 'grid', gridTemplateColumns: { xs: '1fr', sm: '1fr 1fr' }, gap: 2 }}>
        <Card>
          <CardContent>
            <PersonIcon color="primary" aria-hidden />
            <Typography variant="h6" component="h2">
              <FormattedMessage id="demo.start.customer" defaultMessage="Customer — {name}" values={{ name: 'Alice' }} />
            </Typography>
            <Typography variant="body2" color="text.secondary">
              <FormattedMessage id="demo.start.customer_text" defaultMessage="Service tracking: booking timeline, provider card and the chat." />
            </Typography>
          </CardContent>
          <CardActions>
            <Button variant="contained" href="/customer" data-testid="open-customer">
              <FormattedMessage id="demo.start.open_customer" defaultMessage="Open customer view" />
            </Button>
            <Button href="/customer" target="_blank" rel="noopener">
              {newWindow}
            </Button>
          </CardActions>
        </Card>
        <Card>
          <CardContent>
            <EngineeringIcon color="secondary" aria-hidden />
            <Typography variant="h6" component="h2">
              <FormattedMessage id="demo.start.worker" defaultMessage="Worker — {name}" values={{ name: 'Bob' }} />
            </Typography>
            <Typography variant="body2" color="text.secondary">
              <FormattedMessage id="demo.start.worker_text" defaultMessage="Job tracking: status actions (on my way, start, complete) and the chat." />
            </Typography>
          </CardContent>
          <CardActions>
            <Button variant="contained" color="secondary" href="/worker" data-testid="open-worker">
              <FormattedMessage id="demo.start.open_worker" defaultMessage="Open worker view" />
            </Button>
            <Button href="/worker" target="_blank" rel="noopener" color="secondary">
              {newWindow}
            </Button>
          </CardActions>
        </Card>
      </Box>
    </Layout>
  );
}
