// The crash soak: rounds of "send pipelined, SIGKILL mid-stream, restart on the same database,
// re-send what was not acked with the same client_id", checking after every round that no acked
// message was lost, none is stored twice, and seq has no gap. Used by scripts/crash-soak (many
// rounds) and by soak.test.mjs (a few, in CI).
import { acceptedBooking, ask, connect, sleep, startServer, text } from './harness.mjs';

const ENV = { RATE_LIMIT_MESSAGES: '1000000', RATE_LIMIT_EVENTS: '1000000' };

/** Every message of `chat_id` after `after`, paged. */
async function historyAfter(socket, chat_id, after) {
  const out = [];
  for (;;) {
    const page = await ask(socket, 'load_messages', { chat_id, after_seq: after, limit: 100 }, 30000);
    if (!page.ok) throw new Error(`load_messages: ${JSON.stringify(page.error)}`);
    out.push(...page.messages);
    if (!page.has_more || page.messages.length === 0) return out;
    after = page.messages.at(-1).seq;
  }
}

/**
 * Run `rounds` rounds against one chat on one database. `databaseUrl` undefined: the harness's
 * choice (a fresh SQLite file, or OMW_TEST_DATABASE_URL). Returns the figures; `problems`
 * lists every violation (empty when all held).
 */
export async function soak({ rounds, perRound = 1000, databaseUrl, log = () => {} }) {
  const started = Date.now();
  const totals = { rounds: 0, sent: 0, acked: 0, ackedBeforeKill: 0, midStream: 0, lost: 0, duplicated: 0, gaps: 0, resent: 0 };
  const problems = [];
  let server = await startServer({ env: ENV, databaseUrl });
  const dbUrl = server.databaseUrl;
  try {
    const b = await acceptedBooking(server.url);
    const chat_id = b.chat.id;
    let verified = 0; // last seq checked
    {
      const s = await connect(server.url, b.customerToken);
      verified = (await historyAfter(s, chat_id, 0)).at(-1)?.seq ?? 0;
      s.close();
    }
    for (let round = 1; round <= rounds; round++) {
      const tok = round % 2 ? b.customerToken : b.workerToken;
      const s = await connect(server.url, tok);
      const ids = Array.from({ length: perRound }, (_, i) => `soak-${round}-${i}`);
      const acked = new Map(); // client_id -> message
      const pending = ids.map((id, i) =>
        s.timeout(15000).emitWithAck('send_message', text(chat_id, `r${round} m${i}`, id))
          .then((r) => { if (r.ok) acked.set(id, r.message); })
          .catch(() => {}));
      // Kill somewhere in the first quarter of the acks: they come back in whole batches, so a
      // later threshold often finds the stream finished by the time the signal lands.
      const killAfter = 1 + Math.floor(Math.random() * (perRound / 4));
      const deadline = Date.now() + 30000;
      while (acked.size < killAfter && Date.now() < deadline) await sleep(1);
      await server.kill();
      await Promise.allSettled(pending);
      s.close();
      totals.sent += perRound;
      totals.ackedBeforeKill += acked.size;
      if (acked.size < perRound) totals.midStream += 1;

      server = await startServer({ env: ENV, databaseUrl: dbUrl });
      const c = await connect(server.url, tok);
      // Before any retry: every acked message must be there, once.
      const stored = (await historyAfter(c, chat_id, verified)).filter((m) => m.client_id);
      const storedIds = new Set(stored.map((m) => m.client_id));
      for (const [id, m] of acked) {
        if (!storedIds.has(id)) { totals.lost += 1; problems.push(`round ${round}: acked ${id} (seq ${m.seq}) lost`); }
      }
      // The outbox re-sends whatever it never saw acked, all at once, with the same client_id.
      const unacked = ids.filter((id) => !acked.has(id));
      totals.resent += unacked.length;
      const resent = await Promise.all(unacked.map((id) => ask(c, 'send_message', text(chat_id, `retry ${id}`, id), 30000)));
      resent.forEach((r, i) => {
        if (!r.ok) problems.push(`round ${round}: resend of ${unacked[i]} refused: ${JSON.stringify(r.error)}`);
      });
      const after = await historyAfter(c, chat_id, verified);
      c.close();
      const counts = new Map();
      for (const m of after) if (m.client_id) counts.set(m.client_id, (counts.get(m.client_id) ?? 0) + 1);
      for (const id of ids) {
        const n = counts.get(id) ?? 0;
        if (n === 0) { totals.lost += 1; problems.push(`round ${round}: ${id} missing after the retries`); }
        if (n > 1) { totals.duplicated += n - 1; problems.push(`round ${round}: ${id} stored ${n} times`); }
      }
      for (const [id, m] of acked) {
        const now = after.find((x) => x.client_id === id);
        if (now && now.seq !== m.seq) problems.push(`round ${round}: ${id} acked as seq ${m.seq}, stored as ${now.seq}`);
      }
      after.forEach((m, i) => {
        if (m.seq !== verified + 1 + i) { totals.gaps += 1; problems.push(`round ${round}: seq ${m.seq} at position ${verified + 1 + i}`); }
      });
      verified = after.at(-1)?.seq ?? verified;
      totals.acked += ids.length - resent.filter((r) => !r.ok).length;
      totals.rounds = round;
      log(`round ${round}/${rounds}: ${acked.size}/${perRound} acked before the kill, ${unacked.length} re-sent, seq now ${verified}`);
      if (problems.length > 50) break;
    }
  } finally {
    await server.stop();
  }
  return { ...totals, seconds: Math.round((Date.now() - started) / 100) / 10, problems };
}
