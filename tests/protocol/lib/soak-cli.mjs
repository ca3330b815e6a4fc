// scripts/crash-soak's runner: ROUNDS, PER_ROUND and DATABASE from the environment; prints the
// figures as JSON and exits 1 on any lost, duplicated or out-of-order message.
import { soak } from './soak.mjs';

const rounds = Number(process.env.ROUNDS ?? 100);
const perRound = Number(process.env.PER_ROUND ?? 1000);
const db = process.env.DATABASE ?? 'sqlite';
const result = await soak({
  rounds,
  perRound,
  databaseUrl: db === 'sqlite' ? undefined : db,
  log: (line) => process.stderr.write(`${line}\n`),
});
const { problems, ...figures } = result;
console.log(JSON.stringify({ database: db.replace(/\/\/[^@/]*@/, '//***@'), ...figures }, null, 2));
for (const p of problems) console.error(`FAIL ${p}`);
process.exit(problems.length === 0 && figures.rounds === rounds ? 0 : 1);
