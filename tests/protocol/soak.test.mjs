// The crash soak's short run (scripts/crash-soak runs it long): a few SIGKILL-and-restart rounds
// on this backend; no acked message lost, none stored twice, seq gap-free.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { soak } from './lib/soak.mjs';

test('crash soak: 3 SIGKILL-and-restart rounds lose, duplicate and reorder nothing', async () => {
  const r = await soak({ rounds: 3, perRound: 200 });
  assert.deepEqual(r.problems, []);
  assert.equal(r.rounds, 3);
  assert.equal(r.lost, 0);
  assert.equal(r.duplicated, 0);
  assert.equal(r.gaps, 0);
});
