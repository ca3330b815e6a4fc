// A stand-in push service on loopback that counts what it receives, and browser-like
// subscription keys (a real P-256 point and auth secret). Decryption and VAPID are checked by
// the Rust suite (crates/server/tests/push.rs); these tests are about who gets a push.
import { createECDH, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

export async function pushService() {
  const seen = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => { seen.push(req.url); res.writeHead(201).end(); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    seen,
    subscription: (device) => {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      return {
        endpoint: `${origin}/push/${device}`,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') },
      };
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Settings for a server that pushes `push` after a message and sends to loopback. */
export const pushingEnv = (push = '300ms') => ({
  PUSH_ALLOW_INSECURE_ENDPOINTS: 'true',
  // No webhook is configured: the ladder ends at its second step, and the next message starts
  // another.
  NOTIFY_DELAYS: `high=${push}/600ms,normal=${push}/600ms,low=${push}/600ms`,
  JOBS_POLL: '50ms',
});
