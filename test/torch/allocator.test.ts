/**
 * The addon's allocator policy (docs/speed.md#allocator): glibc's defaults unless RDARTS_MALLOC=keep,
 * which (on glibc) keeps freed memory for reuse; either way tensors work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const index = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'torch', 'index.js');
const script = `import(${JSON.stringify(index)}).then((T) => { T.manualSeed(3); const x = T.randn([256, 1024]); process.stdout.write(T.allocatorPolicy() + ' ' + x.square().sum().item().toFixed(0)); });`;

function policyIn(env: NodeJS.ProcessEnv): string {
  const r = spawnSync(process.execPath, ['-e', script], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('allocator policy: system by default, keep with RDARTS_MALLOC=keep on glibc', () => {
  const base = { ...process.env };
  delete base.RDARTS_MALLOC;
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const [policy, sum] = policyIn(base).split(' ');
  assert.equal(policy, 'system');
  assert.ok(Number(sum) > 200000, `a tensor computed under the policy: Σx² = ${sum}`);
  const [kept, sumKept] = policyIn({ ...base, RDARTS_MALLOC: 'keep' }).split(' ');
  assert.equal(kept, glibc ? 'keep' : 'system');
  assert.equal(sumKept, sum, 'the same values under either policy');
});
