import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenotypeError, ShapeError } from '../../src/errors.js';
import {
  DARTS_V2,
  deriveGenotype,
  genotypeFitsSpace,
  genotypeFromJSON,
  genotypeSpaceProblems,
  genotypeToJSON,
  genotypeToOneHot,
  getSpace,
  softmaxRows,
  spaceFromObject,
  type Genotype,
} from '../../src/nas/index.js';

const zeros = (rows: number, cols: number) => Array.from({ length: rows }, () => Array<number>(cols).fill(0));

test('softmaxRows is stable and normalised', () => {
  const [r] = softmaxRows([[1000, 1000, 0]]);
  assert.ok(Math.abs(r![0]! - 0.5) < 1e-12 && r![2]! < 1e-300 + 1e-12);
  const [q] = softmaxRows([[0, Math.log(3)]]);
  assert.ok(Math.abs(q![1]! - 0.75) < 1e-12);
});

test('derive on S3: none is ignored for ranking and choice; ties go to lower index', () => {
  // columns: none, skip_connect, sep_conv_3x3
  const a = zeros(14, 3);
  a[0] = [5, 1, 0]; // none dominates; best non-none: skip (0.018)
  a[1] = [0, 0, 2]; // sep 0.787 → strongest edge of node 0
  a[2] = [0, 0, 0]; // 1/3 each, skip/sep tie → skip
  a[3] = [10, 0, 0]; // none huge: non-none weights ~4.5e-5 → weakest, although its max is largest
  a[4] = [0, 1, 0]; // skip 0.576
  a[6] = [0, 0, 1]; // sep 0.576
  a[7] = [0, 0, 1]; // same strength as edge 6 → edge 6 first
  a[9] = [100, 0, 0]; // would win if none counted
  a[11] = [0, 0, 2]; // sep 0.787
  a[13] = [0, 3, 3]; // skip/sep tie inside the edge → skip, strength 0.488
  const g = deriveGenotype(a, zeros(14, 3), getSpace('s3'));
  assert.deepEqual(g.normal, [
    ['sep_conv_3x3', 1], ['skip_connect', 0],
    ['skip_connect', 2], ['skip_connect', 0],
    ['sep_conv_3x3', 1], ['sep_conv_3x3', 2],
    ['sep_conv_3x3', 2], ['skip_connect', 4],
  ]);
  // all-zero α: every node takes its two inputs with the first non-none op
  assert.deepEqual(g.reduce, [
    ['skip_connect', 0], ['skip_connect', 1],
    ['skip_connect', 0], ['skip_connect', 1],
    ['skip_connect', 0], ['skip_connect', 1],
    ['skip_connect', 0], ['skip_connect', 1],
  ]);
  assert.deepEqual(g.normalConcat, [2, 3, 4, 5]);
  assert.deepEqual(g.reduceConcat, [2, 3, 4, 5]);
});

test('derive on S4: noise counts and can be chosen', () => {
  // columns: noise, sep_conv_3x3
  const a = zeros(14, 2);
  a[0] = [2, 0]; // noise 0.881
  a[1] = [0, 1]; // sep 0.731
  a[2] = [0, 0]; // 0.5, tie → noise
  a[3] = [0, 3]; // sep 0.953
  a[4] = [1, 0]; // noise 0.731
  const g = deriveGenotype(a, zeros(14, 2), getSpace('S4'));
  assert.deepEqual(g.normal.slice(0, 4), [['noise', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 1], ['noise', 2]]);
  assert.deepEqual(g.normal.slice(4), [['noise', 0], ['noise', 1], ['noise', 0], ['noise', 1]]);
});

test('derive on S1: per-edge op lists give the right op names', () => {
  const n = zeros(14, 2);
  n[0] = [0, 1]; // skip, dil3 → dil3 0.731
  n[1] = [2, 0]; // skip, dil5 → skip 0.881
  n[3] = [0, 2]; // skip, sep3 → sep 0.881
  n[4] = [1, 0]; // skip, dil3 → skip 0.731 (edge 2 is 0.5)
  n[5] = [3, 0]; // max_pool, skip → max_pool 0.953
  n[7] = [0, 1]; // skip, sep3 → 0.731
  n[8] = [0, 4]; // skip, dil3 → dil3 0.982
  n[12] = [0, 1]; // dil3, dil5 → dil5 0.731
  n[13] = [2, 0]; // dil3, dil5 → dil3 0.881
  const r = zeros(14, 2);
  r[1] = [0, 1]; // max_pool, dil3 → dil3 0.731
  r[4] = [0, 0.5]; // skip, dil5 → dil5 0.622
  r[6] = [0, 2]; // max_pool, sep3 → sep 0.881
  r[7] = [1, 0]; // skip, dil3 → skip 0.731
  const g = deriveGenotype(n, r, getSpace('s1'));
  assert.deepEqual(g.normal, [
    ['skip_connect', 1], ['dil_conv_3x3', 0],
    ['sep_conv_3x3', 1], ['skip_connect', 2],
    ['dil_conv_3x3', 3], ['max_pool_3x3', 0],
    ['dil_conv_3x3', 4], ['dil_conv_5x5', 3],
  ]);
  assert.deepEqual(g.reduce, [
    ['dil_conv_3x3', 1], ['max_pool_3x3', 0],
    ['dil_conv_5x5', 2], ['max_pool_3x3', 0],
    ['sep_conv_3x3', 1], ['skip_connect', 2],
    ['max_pool_3x3', 0], ['max_pool_3x3', 1],
  ]);
  assert.ok(genotypeFitsSpace(g, getSpace('s1')));
});

test('derive uses the global edge index to find none (user space with none in different columns)', () => {
  const per = Array.from({ length: 14 }, () => ['skip_connect', 'sep_conv_3x3']);
  per[0] = ['none', 'skip_connect'];
  per[1] = ['skip_connect', 'sep_conv_3x3'];
  per[2] = ['skip_connect', 'none'];
  per[3] = ['none', 'sep_conv_3x3'];
  per[4] = ['sep_conv_3x3', 'skip_connect'];
  const space = spaceFromObject({ name: 'mixed-none', normal: per, reduce: ['skip_connect'] });
  const a = zeros(14, 2);
  a[0] = [4, 0]; // none big, skip 0.018
  a[1] = [0, 0]; // 0.5
  a[2] = [0, 5]; // none (column 1) big: skip 0.0067
  a[3] = [5, 0]; // none (column 0) big: sep 0.0067
  a[4] = [0, 0]; // 0.5
  const g = deriveGenotype(a, Array.from({ length: 14 }, () => [0]), space);
  // node 0: edge 1 (0.5) before edge 0 (0.018), and on edge 0 'none' is skipped → skip_connect
  // node 1: edge 4 (0.5) first; edges 2 and 3 tie at 0.0067 → edge 2; on edge 2 none is column 1
  assert.deepEqual(g.normal.slice(0, 4), [['skip_connect', 1], ['skip_connect', 0], ['sep_conv_3x3', 2], ['skip_connect', 0]]);
  assert.deepEqual(g.reduce.slice(0, 2), [['skip_connect', 0], ['skip_connect', 1]]);
});

test('derive rejects α of the wrong shape or with NaN', () => {
  const s1 = getSpace('s1');
  assert.throws(() => deriveGenotype(zeros(13, 2), zeros(14, 2), s1), (e: unknown) => e instanceof ShapeError && /13 rows/.test(e.message));
  assert.throws(() => deriveGenotype(zeros(14, 2), zeros(14, 3), s1), (e: unknown) => e instanceof ShapeError && /alpha_reduce row 0 has 3 entries/.test(e.message));
  const bad = zeros(14, 2);
  bad[6]![1] = Number.NaN;
  assert.throws(() => deriveGenotype(bad, zeros(14, 2), s1), (e: unknown) => e instanceof GenotypeError && /alpha_normal\[6\]\[1\] is NaN/.test(e.message));
});

test('JSON round trip and reading snake_case concat', () => {
  const j = genotypeToJSON(DARTS_V2);
  const text = JSON.stringify(j);
  const back = genotypeFromJSON(text);
  assert.deepEqual(back, DARTS_V2);
  const snake = genotypeFromJSON({ normal: j.normal, normal_concat: [2, 3, 4, 5], reduce: j.reduce, reduce_concat: [5, 4] });
  assert.deepEqual(snake.reduceConcat, [5, 4]);
});

function genErr(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof GenotypeError, `expected GenotypeError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

test('JSON validation errors name the place', () => {
  const base = genotypeToJSON(DARTS_V2);
  const withGene = (cell: 'normal' | 'reduce', i: number, gene: unknown) => {
    const o = JSON.parse(JSON.stringify(base));
    o[cell][i] = gene;
    return o;
  };
  assert.throws(() => genotypeFromJSON(withGene('normal', 3, ['sep_conv_9x9', 1]), 'genotypes.jsonl line 4'), genErr(/^genotypes\.jsonl line 4: normal\[3\] \(node 1\): unknown op 'sep_conv_9x9'; known ops:/));
  assert.throws(() => genotypeFromJSON(withGene('reduce', 1, ['max_pool_3x3', 2])), genErr(/reduce\[1\] \(node 0\): source 2 is out of range.*sources 0\.\.1/));
  assert.throws(() => genotypeFromJSON(withGene('reduce', 7, ['max_pool_3x3', 1.5])), genErr(/reduce\[7\] \(node 3\): source 1.5/));
  assert.throws(() => genotypeFromJSON(withGene('normal', 0, ['sep_conv_3x3'])), genErr(/normal\[0\] \(node 0\): a gene must be a pair/));
  assert.throws(() => genotypeFromJSON({ ...base, normal: base.normal.slice(0, 7) }), genErr(/normal: has 7 genes; a cell needs two genes per intermediate node/));
  assert.throws(() => genotypeFromJSON({ ...base, reduce: base.reduce.slice(0, 6) }), genErr(/reduce: has 3 nodes but normal has 4/));
  assert.throws(() => genotypeFromJSON({ ...base, normalConcat: [2, 3, 3] }), genErr(/normalConcat: state 3 listed twice/));
  assert.throws(() => genotypeFromJSON({ ...base, reduceConcat: [2, 6] }), genErr(/reduceConcat: 6 is not a state of a 4-node cell/));
  assert.throws(() => genotypeFromJSON({ ...base, reduceConcat: undefined }), genErr(/reduceConcat: expected a non-empty list/));
  assert.throws(() => genotypeFromJSON({ ...base, extra: 1 }), genErr(/unknown field 'extra'/));
  assert.throws(() => genotypeFromJSON('{"normal": ['), genErr(/not valid JSON/));
  assert.throws(() => genotypeFromJSON([1, 2]), genErr(/expected an object/));
});

test('genotypeFitsSpace and problems', () => {
  assert.ok(genotypeFitsSpace(DARTS_V2, getSpace('darts')));
  assert.ok(!genotypeFitsSpace(DARTS_V2, getSpace('s2')));
  const problems = genotypeSpaceProblems(DARTS_V2, getSpace('s2'));
  // reduce uses max_pool_3x3 (5 genes) and normal uses dil_conv_3x3 once
  assert.equal(problems.length, 6);
  assert.match(problems[0]!, /normal\[7\] \(node 3 <- node 0, edge 11\): op 'dil_conv_3x3' is not in this edge's list \[skip_connect, sep_conv_3x3\]/);
  const dup: Genotype = { ...DARTS_V2, normal: DARTS_V2.normal.map((x) => [...x] as [typeof x[0], number]) };
  dup.normal[1] = ['sep_conv_3x3', 0];
  assert.ok(genotypeSpaceProblems(dup, getSpace('darts')).some((p) => /node 0: both genes take source 0/.test(p)));
});

test('one-hot α: 1 on chosen op of chosen edges, zero rows elsewhere; derives back', () => {
  const s1 = getSpace('s1');
  const g: Genotype = {
    normal: [['skip_connect', 1], ['dil_conv_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['dil_conv_3x3', 3], ['max_pool_3x3', 0], ['dil_conv_3x3', 4], ['dil_conv_5x5', 3]],
    normalConcat: [2, 3, 4, 5],
    reduce: [['dil_conv_3x3', 1], ['max_pool_3x3', 0], ['dil_conv_5x5', 2], ['max_pool_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['avg_pool_3x3', 0], ['max_pool_3x3', 1]],
    reduceConcat: [2, 3, 4, 5],
  };
  const oh = genotypeToOneHot(g, s1);
  assert.deepEqual(oh.normal[0], [0, 1]); // edge 0: dil_conv_3x3 is column 1
  assert.deepEqual(oh.normal[1], [1, 0]); // edge 1: skip_connect
  assert.deepEqual(oh.normal[2], [0, 0]); // unchosen
  assert.deepEqual(oh.normal[5], [1, 0]); // max_pool_3x3 is column 0 on edge 5
  assert.deepEqual(oh.normal[12], [0, 1]);
  assert.deepEqual(oh.reduce[9], [0, 1]); // avg_pool on n3 <- in0
  const total = (m: number[][]) => m.flat().reduce((a, b) => a + b, 0);
  assert.equal(total(oh.normal), 8);
  assert.equal(total(oh.reduce), 8);
  // derive from a one-hot ranks chosen edges equally: set of genes per node is recovered
  const back = deriveGenotype(oh.normal.map((r) => r.map((x) => 10 * x)), oh.reduce.map((r) => r.map((x) => 10 * x)), s1);
  const sortedNodes = (genes: Genotype['normal']) => [0, 1, 2, 3].map((i) => genes.slice(2 * i, 2 * i + 2).map((x) => x.join(':')).sort());
  assert.deepEqual(sortedNodes(back.normal), sortedNodes(g.normal));
  assert.deepEqual(sortedNodes(back.reduce), sortedNodes(g.reduce));
  assert.throws(() => genotypeToOneHot(DARTS_V2, s1), (e: unknown) => e instanceof GenotypeError && /does not fit search space 's1'/.test(e.message));
  // darts space: column of the chosen op among 8
  const od = genotypeToOneHot(DARTS_V2, getSpace('darts'));
  assert.deepEqual(od.normal[0], [0, 0, 0, 0, 1, 0, 0, 0]);
  assert.deepEqual(od.reduce[0], [0, 1, 0, 0, 0, 0, 0, 0]);
});
