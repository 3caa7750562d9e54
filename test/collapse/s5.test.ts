/**
 * S5 (docs/s5.md): exactly 81 derivable genotypes; the ground-truth table's JSON and CSV forms
 * round-trip; the test regret against a constructed table (values by hand); a tiny search on s5
 * with a table logs one regret line per epoch, consistent with its genotypes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { Rng } from '../../src/util/rng.js';
import { ConfigError } from '../../src/errors.js';
import { getSpace, listSpaces } from '../../src/nas/spaces.js';
import { deriveGenotype } from '../../src/nas/derive.js';
import { genotypeFromJSON } from '../../src/nas/genotype-json.js';
import { enumerateOneNodeGenotypes, s5Key, testRegret, type TruthTable } from '../../src/analysis/s5.js';
import { readTruthFile, truthFromCSV, truthFromJSON, truthToCSV, truthToJSON } from '../../src/experiments/s5-truth.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { readRun } from '../../src/experiments/run-reader.js';
import { resolveConfig } from '../../src/search/config.js';
import { readJsonl, tinyConfig, tinyData } from '../search/helpers.js';

pinTestThreads();

const s5 = getSpace('s5');

test('S5: one node, two edges, three ops each (one parameter-free); not among the RobustDARTS spaces', () => {
  assert.equal(s5.steps, 1);
  assert.deepEqual(s5.normal, [['skip_connect', 'sep_conv_3x3', 'dil_conv_5x5'], ['skip_connect', 'sep_conv_3x3', 'dil_conv_5x5']]);
  assert.deepEqual(s5.reduce, [['max_pool_3x3', 'sep_conv_3x3', 'dil_conv_5x5'], ['max_pool_3x3', 'sep_conv_3x3', 'dil_conv_5x5']]);
  assert.ok(!listSpaces().includes('s5'));
});

test('S5 has exactly 81 distinct derivable genotypes', () => {
  // every argmax pattern (3 choices on each of 2 edges × 2 cell types = 3⁴) …
  const derived = new Set<string>();
  for (let code = 0; code < 81; code++) {
    const pick = [0, 1, 2, 3].map((i) => Math.floor(code / 3 ** i) % 3);
    const alpha = (a: number, b: number) => [0, 1].map((e) => [0, 1, 2].map((k) => (k === [a, b][e] ? 1 : 0)));
    derived.add(s5Key(deriveGenotype(alpha(pick[0]!, pick[1]!), alpha(pick[2]!, pick[3]!), s5)));
  }
  assert.equal(derived.size, 81);
  // … equals the enumeration, and random α never derive anything else
  const all = new Set(enumerateOneNodeGenotypes(s5).map(s5Key));
  assert.equal(all.size, 81);
  assert.deepEqual([...derived].sort(), [...all].sort());
  const rng = new Rng(7);
  const rnd = () => [0, 1].map(() => [0, 1, 2].map(() => rng.normal()));
  for (let i = 0; i < 300; i++) assert.ok(all.has(s5Key(deriveGenotype(rnd(), rnd(), s5))));
});

const K = (n0: string, n1: string, r0: string, r1: string) => s5Key(genotypeFromJSON({ normal: [[n0, 0], [n1, 1]], normalConcat: [2], reduce: [[r0, 0], [r1, 1]], reduceConcat: [2] }));

function fullTable(): TruthTable {
  const gs = enumerateOneNodeGenotypes(s5);
  return {
    space: 's5',
    dataset: 'fashion-mnist',
    protocol: { epochs: 1, seeds: 2 },
    entries: gs.map((g, i) => ({ key: s5Key(g), genotype: g, testError: { mean: 0.1 + 0.001 * ((i * 37) % 81), std: 0.002 }, validError: { mean: 0.11 + 0.001 * i, std: 0.003 }, parameters: 1000 + i, seeds: 2 })),
  };
}

test('regret against a constructed table, values by hand; partial tables say so; a missing genotype gives null', () => {
  const g = (n0: string, n1: string, r0: string, r1: string) => genotypeFromJSON({ normal: [[n1, 1], [n0, 0]], normalConcat: [2], reduce: [[r0, 0], [r1, 1]], reduceConcat: [2] });
  const A = g('skip_connect', 'sep_conv_3x3', 'max_pool_3x3', 'sep_conv_3x3');
  const B = g('sep_conv_3x3', 'dil_conv_5x5', 'sep_conv_3x3', 'sep_conv_3x3');
  const C = g('skip_connect', 'skip_connect', 'max_pool_3x3', 'max_pool_3x3');
  const e = (x: typeof A, t: number) => ({ key: s5Key(x), genotype: x, testError: { mean: t, std: 0 }, validError: { mean: t, std: 0 }, parameters: 1, seeds: 1 });
  const table: TruthTable = { space: 's5', dataset: 'x', protocol: {}, entries: [e(A, 0.12), e(B, 0.09), e(C, 0.15)] };
  // best = B's 0.09: A → 0.12 − 0.09 = 0.03 (rank 2), C → 0.06 (rank 3), B → 0 (rank 1)
  const rA = testRegret(table, A)!;
  assert.ok(Math.abs(rA.regret - 0.03) < 1e-15);
  assert.equal(rA.rank, 2);
  assert.equal(rA.bestTestError, 0.09);
  assert.equal(rA.complete, false);
  assert.ok(Math.abs(testRegret(table, C)!.regret - 0.06) < 1e-15);
  assert.deepEqual([testRegret(table, B)!.regret, testRegret(table, B)!.rank], [0, 1]);
  // the key ignores gene order (A was written source 1 first)
  assert.equal(s5Key(A), K('skip_connect', 'sep_conv_3x3', 'max_pool_3x3', 'sep_conv_3x3'));
  assert.equal(testRegret(table, g('dil_conv_5x5', 'dil_conv_5x5', 'dil_conv_5x5', 'dil_conv_5x5')), null);
  assert.equal(testRegret(fullTable(), A)!.complete, true);
});

test('the truth table round-trips through JSON and CSV; bad files name the problem', () => {
  const t = fullTable();
  assert.deepEqual(truthFromJSON(truthToJSON(t)), t);
  const csv = truthToCSV(t);
  assert.equal(csv.split('\n')[0], 'key,normal_0,normal_1,reduce_0,reduce_1,test_error_mean,test_error_std,valid_error_mean,valid_error_std,parameters,seeds');
  assert.deepEqual(truthFromCSV(csv, { space: 's5', dataset: 'fashion-mnist' }), { ...t, protocol: {} });
  const dup = { ...t, entries: [...t.entries, t.entries[0]!] };
  assert.throws(() => truthFromJSON(truthToJSON(dup)), (e: unknown) => e instanceof ConfigError && /appears twice/.test(e.message));
  const wrong = JSON.parse(truthToJSON(t));
  wrong.entries[0].key = wrong.entries[1].key;
  assert.throws(() => truthFromJSON(JSON.stringify(wrong)), /holds the genotype/);
  assert.throws(() => truthFromCSV('a,b\n', { space: 's5', dataset: 'x' }), /header/);
  assert.throws(() => truthFromCSV(csv.replace(/,1000,2\n/, ',many,2\n'), { space: 's5', dataset: 'x' }), /parameters is not a number/);
  assert.throws(() => resolveConfig(undefined, { space: 's3', s5Truth: 'truth.json' }, 'test'), (e: unknown) => e instanceof ConfigError && /s5Truth/.test(e.message));
});

test('a tiny DARTS search on s5 with a table logs the regret of each epoch\'s genotype beside the one-shot validation error', async () => {
  const dir = tempDir('s5');
  try {
    const table = fullTable();
    const file = join(dir.path, 'truth.csv');
    writeFileSync(file, truthToCSV(table));
    assert.deepEqual(readTruthFile(file).entries, table.entries);
    const cfg = tinyConfig({ space: 's5', epochs: 2, s5Truth: file });
    const out = join(dir.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const lines = readJsonl(join(out, 'metrics.jsonl')) as Array<Record<string, any>>;
    const reg = lines.filter((l) => l.kind === 's5-regret');
    const epochs = lines.filter((l) => l.kind === 'epoch');
    const genos = readJsonl(join(out, 'genotypes.jsonl')) as Array<Record<string, any>>;
    assert.deepEqual(reg.map((l) => l.epoch), [0, 1]);
    const best = Math.min(...table.entries.map((e) => e.testError.mean));
    for (let e = 0; e < 2; e++) {
      const key = s5Key(genotypeFromJSON(genos[e]!.genotype));
      const want = table.entries.find((x) => x.key === key)!.testError.mean - best;
      assert.equal(reg[e]!.key, key);
      assert.equal(reg[e]!.regret, want);
      assert.equal(reg[e]!.complete, true);
      assert.equal(reg[e]!.oneShotValidError, 1 - epochs[e]!.valid.acc);
    }
    assert.deepEqual(readRun(out).regrets.map((r) => r.epoch), [0, 1]);
  } finally {
    dir.cleanup();
  }
});
