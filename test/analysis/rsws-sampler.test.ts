import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';
import { ConfigError } from '../../src/errors.js';
import { edgeIndex, numEdges, sampleArchitecture, type SearchSpaceLike } from '../../src/search/methods/rsws-sampler.js';

const DARTS_OPS = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];
const darts: SearchSpaceLike = { steps: 4, normal: Array.from({ length: 14 }, () => DARTS_OPS), reduce: Array.from({ length: 14 }, () => DARTS_OPS) };
// S1-like: two ops per edge, different per edge; one ragged edge with three
const s1: SearchSpaceLike = {
  steps: 4,
  normal: Array.from({ length: 14 }, (_, e) => (e === 5 ? ['a5', 'b5', 'c5'] : [`a${e}`, `b${e}`])),
  reduce: Array.from({ length: 14 }, (_, e) => [`r${e}`, `q${e}`]),
};

/** Pearson chi-square statistic of observed counts against equal expected counts. */
function chiSquare(counts: number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const e = total / counts.length;
  return counts.reduce((s, o) => s + (o - e) ** 2 / e, 0);
}

test('edge numbering: 14 edges for 4 nodes, node i owns edges i(i+3)/2 … +i+1', () => {
  assert.equal(numEdges(4), 14);
  assert.deepEqual([edgeIndex(0, 0), edgeIndex(0, 1), edgeIndex(1, 0), edgeIndex(2, 0), edgeIndex(3, 0), edgeIndex(3, 4)], [0, 1, 2, 5, 9, 13]);
});

test('structure: distinct predecessors, one-hot rows, genotype matches α', () => {
  const rng = new Rng(1);
  for (let s = 0; s < 500; s++) {
    const arch = sampleArchitecture(s1, rng);
    for (const [cell, ops] of [[arch.normal, s1.normal], [arch.reduce, s1.reduce]] as const) {
      assert.equal(cell.edges.length, 8);
      assert.deepEqual(cell.concat, [2, 3, 4, 5]);
      assert.deepEqual(cell.alphas.map((r) => r.length), ops.map((o) => o.length), 'ragged rows follow the op lists');
      for (let node = 0; node < 4; node++) {
        const [e1, e2] = cell.edges.filter((e) => e.node === node);
        assert.ok(e1 && e2 && e1.from !== e2.from, 'two distinct predecessors');
        assert.ok(e1.from < node + 2 && e2.from < node + 2 && e1.from >= 0);
      }
      let ones = 0;
      cell.alphas.forEach((row, e) => {
        const nz = row.filter((v) => v !== 0);
        assert.ok(nz.length <= 1 && nz.every((v) => v === 1));
        ones += nz.length;
        const chosen = cell.edges.find((c) => c.edge === e);
        if (chosen) assert.equal(row[chosen.opIndex], 1);
        else assert.equal(nz.length, 0);
      });
      assert.equal(ones, 8);
      cell.edges.forEach((e, i) => {
        assert.equal(e.edge, edgeIndex(e.node, e.from));
        assert.equal(e.op, ops[e.edge]![e.opIndex]);
        assert.deepEqual(cell.genotype[i], [e.op, e.from]);
      });
    }
  }
  // same seed, same architecture; different seed, (almost surely) different
  assert.deepEqual(sampleArchitecture(darts, new Rng(5)), sampleArchitecture(darts, new Rng(5)));
  assert.notDeepEqual(sampleArchitecture(darts, new Rng(5)), sampleArchitecture(darts, new Rng(6)));
});

test('uniformity under a fixed seed (chi-square, generous thresholds)', () => {
  const rng = new Rng(2024);
  const N = 4000;
  // node 3: ordered predecessor pairs (5·4 = 20 cells), ops on the DARTS space (8 cells), and
  // each edge's op among S1's 2 ops; counted over the normal cell
  const pairCounts = new Array(20).fill(0);
  const opCounts = new Array(8).fill(0);
  const noneCount = { none: 0, total: 0 };
  const predCountsNode1 = new Array(3).fill(0);
  for (let s = 0; s < N; s++) {
    const a = sampleArchitecture(darts, rng);
    const n3 = a.normal.edges.filter((e) => e.node === 3);
    const [p, q] = [n3[0]!.from, n3[1]!.from];
    pairCounts[p * 4 + (q > p ? q - 1 : q)]++;
    for (const e of a.normal.edges) {
      opCounts[e.opIndex]++;
      noneCount.total++;
      if (e.op === 'none') noneCount.none++;
    }
    for (const e of a.reduce.edges.filter((x) => x.node === 1)) predCountsNode1[e.from]++;
  }
  // χ² critical values at p = 0.001: df 19 → 43.8, df 7 → 24.3, df 2 → 13.8; thresholds set higher
  assert.ok(chiSquare(pairCounts) < 50, `pairs χ² = ${chiSquare(pairCounts)}`);
  assert.ok(chiSquare(opCounts) < 30, `ops χ² = ${chiSquare(opCounts)}`);
  assert.ok(chiSquare(predCountsNode1) < 18, `node-1 predecessors χ² = ${chiSquare(predCountsNode1)}`);
  // 'none' can be drawn (1/8 of the edges)
  assert.ok(Math.abs(noneCount.none / noneCount.total - 1 / 8) < 0.01);
  // a sampler that always took the first two candidates would fail the pair test
  const biased = new Array(20).fill(0);
  biased[1] = N;
  assert.ok(chiSquare(biased) > 1000);
});

test('malformed spaces are refused', () => {
  assert.throws(() => sampleArchitecture({ steps: 4, normal: darts.normal.slice(1), reduce: darts.reduce }, new Rng(0)), ConfigError);
  assert.throws(() => sampleArchitecture({ steps: 4, normal: darts.normal, reduce: [...darts.reduce.slice(1), []] }, new Rng(0)), ConfigError);
  assert.throws(() => sampleArchitecture({ steps: 0, normal: [], reduce: [] }, new Rng(0)), ConfigError);
});
