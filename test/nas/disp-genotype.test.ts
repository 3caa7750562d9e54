/**
 * The S6 genotypes (nas/disp/genotype.ts): the edge layout of the three cell types, derivation
 * from hand-made α (encoder cells by DARTS' rule, the upsampling cell's first node keeping all
 * four inputs), the repr and JSON round trips, validation messages that name the cell and the
 * gene, and the one-hot rows of the discrete forward.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenotypeError, ShapeError } from '../../src/errors.js';
import {
  S6_OPS,
  cellEdges,
  cellInputs,
  deriveDispGenotype,
  dispGenotypeFromJSON,
  dispGenotypeToJSON,
  dispGenotypeToOneHot,
  formatDispGenotypeRepr,
  geneEdgeOf,
  genesPerCell,
  nodeOffset,
  parseDispGenotypeRepr,
  validateDispGenotype,
  type DispGenotype,
} from '../../src/nas/disp/genotype.js';

// S6_OPS columns: 0 none, 1 max_pool_3x3, 2 avg_pool_3x3, 3 skip_connect, 4 sep_conv_3x3, 5 sep_conv_5x5, 6 dil_conv_3x3, 7 dil_conv_5x5
const row = (entries: Record<number, number> = {}): number[] => S6_OPS.map((_, k) => entries[k] ?? 0);

test('edge layout: 2-input encoder cells and the 4-input upsampling cell', () => {
  assert.deepEqual(S6_OPS, ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
  assert.equal(cellInputs('normal'), 2);
  assert.equal(cellInputs('reduce'), 2);
  assert.equal(cellInputs('upsample'), 4);
  // encoder, 3 nodes: 2 + 3 + 4 edges; upsampling, 3 nodes: 4 + 5 + 6
  assert.equal(cellEdges(2, 3), 9);
  assert.equal(cellEdges(4, 3), 15);
  assert.equal(cellEdges(4, 2), 9);
  assert.deepEqual([0, 1, 2].map((n) => nodeOffset(4, n)), [0, 4, 9]);
  assert.deepEqual([0, 1, 2].map((n) => nodeOffset(2, n)), [0, 2, 5]);
  assert.equal(genesPerCell('normal', 3), 6);
  assert.equal(genesPerCell('upsample', 3), 8);
  // upsample genes 0…3 are node 0 (edge = source); genes 4, 5 node 1; 6, 7 node 2
  assert.deepEqual(geneEdgeOf('upsample', 3, 3), { node: 0, edge: 3 });
  assert.deepEqual(geneEdgeOf('upsample', 5, 4), { node: 1, edge: 8 });
  assert.deepEqual(geneEdgeOf('upsample', 6, 0), { node: 2, edge: 9 });
  assert.deepEqual(geneEdgeOf('normal', 3, 2), { node: 1, edge: 4 });
});

/** Two nodes per cell: encoder cells 5 edges, the upsampling cell 9. */
function handAlpha(): { normal: number[][]; reduce: number[][]; upsample: number[][] } {
  return {
    normal: [
      row({ 4: 1 }), // node 0 ← 0: sep3, weight e/(e+7) = 0.28
      row({ 3: 2 }), // node 0 ← 1: skip, 0.51
      row({ 1: 0.3 }), // node 1 ← 0: max pool, 0.16
      row({ 0: 4, 7: 3 }), // node 1 ← 1: none dominates, dil5 0.25 is still the second strongest
      row({ 2: 1.5 }), // node 1 ← 2: avg pool, 0.39
    ],
    reduce: [
      row({ 7: 1 }), // node 0: a tie of strengths (both 0.28) keeps the lower edge first
      row({ 5: 1 }),
      row(), // node 1: all zero (1/8 each; best op: the first non-none column, max pool)
      row(),
      row({ 4: 0.1 }), // 0.136: strongest
    ],
    upsample: [
      row({ 5: 2 }), // node 0 ← 0 (left encoder branch): sep5
      row({ 3: 1 }), // node 0 ← 1: skip
      row({ 0: 3, 2: 1 }), // node 0 ← 2 (prediction): none strongest, still kept with its best non-none op, avg pool
      row({ 6: 0.5 }), // node 0 ← 3 (support): dil3
      row({ 6: 1 }), // node 1 ← 0: dil3, 0.28
      row({ 0: 5, 4: 4 }), // node 1 ← 1: sep3 at α 4 but softmax 0.26 (none takes the mass): loses to 0.28
      row(), // node 1 ← 2: 0.125
      row({ 1: 0.5 }), // node 1 ← 3: 0.19
      row({ 3: 2 }), // node 1 ← 4 (node 0): skip, 0.51
    ],
  };
}

const HAND: DispGenotype = {
  normal: [['skip_connect', 1], ['sep_conv_3x3', 0], ['avg_pool_3x3', 2], ['dil_conv_5x5', 1]],
  normalConcat: [2, 3],
  reduce: [['dil_conv_5x5', 0], ['sep_conv_5x5', 1], ['sep_conv_3x3', 2], ['max_pool_3x3', 0]],
  reduceConcat: [2, 3],
  upsample: [['sep_conv_5x5', 0], ['skip_connect', 1], ['avg_pool_3x3', 2], ['dil_conv_3x3', 3], ['skip_connect', 4], ['dil_conv_3x3', 0]],
  upsampleConcat: [4, 5],
};

const HAND_REPR =
  "DispGenotype(normal=[('skip_connect', 1), ('sep_conv_3x3', 0), ('avg_pool_3x3', 2), ('dil_conv_5x5', 1)], normal_concat=range(2, 4), " +
  "reduce=[('dil_conv_5x5', 0), ('sep_conv_5x5', 1), ('sep_conv_3x3', 2), ('max_pool_3x3', 0)], reduce_concat=range(2, 4), " +
  "upsample=[('sep_conv_5x5', 0), ('skip_connect', 1), ('avg_pool_3x3', 2), ('dil_conv_3x3', 3), ('skip_connect', 4), ('dil_conv_3x3', 0)], upsample_concat=range(4, 6))";

test('derivation on hand-made α: DARTS rule in the encoder, all four inputs of the upsampling node 0, top-2 after', () => {
  const g = deriveDispGenotype(handAlpha(), 2);
  assert.deepEqual(g, HAND);
  assert.equal(validateDispGenotype(g), 2);
  // the upsampling node 0 keeps its four inputs in input order whatever their strengths
  const weak = handAlpha();
  weak.upsample[0] = row({ 0: 10 });
  assert.deepEqual(deriveDispGenotype(weak, 2).upsample.slice(0, 4).map(([, j]) => j), [0, 1, 2, 3]);
  assert.equal(deriveDispGenotype(weak, 2).upsample[0]![0], 'max_pool_3x3', 'all non-none weights tied: the first non-none column');
  // a stronger edge from input 2 now beats the skip from node 0 in node 1
  const strong = handAlpha();
  strong.upsample[6] = row({ 5: 4 });
  assert.deepEqual(deriveDispGenotype(strong, 2).upsample.slice(4), [['sep_conv_5x5', 2], ['skip_connect', 4]]);
});

test('derivation refuses α of the wrong shape or with NaN, naming the cell', () => {
  const a = handAlpha();
  a.upsample.pop();
  assert.throws(() => deriveDispGenotype(a, 2), (e: unknown) => e instanceof ShapeError && /alpha_upsample must be 9 × 8/.test(e.message));
  const b = handAlpha();
  b.reduce[3]![2] = NaN;
  assert.throws(() => deriveDispGenotype(b, 2), (e: unknown) => e instanceof ShapeError && /alpha_reduce/.test(e.message));
  assert.throws(() => deriveDispGenotype(handAlpha(), 3), /alpha_normal must be 9 × 8/);
});

test('repr: the AutoDispNet namedtuple text, format → parse → equal', () => {
  assert.equal(formatDispGenotypeRepr(HAND), HAND_REPR);
  assert.deepEqual(parseDispGenotypeRepr(HAND_REPR), HAND);
  // whitespace and double quotes are accepted
  const loose = HAND_REPR.replace(/'/g, '"').replace(/, /g, ' ,  ').replace('DispGenotype(', '  DispGenotype (\n');
  assert.deepEqual(parseDispGenotypeRepr(loose), HAND);
  // a derived 3-node genotype round-trips too
  const r = (k: number, n: number) => Array.from({ length: n }, (_, e) => row({ [1 + ((e + k) % 7)]: 0.1 * ((e * 7 + k) % 5) }));
  const g3 = deriveDispGenotype({ normal: r(0, 9), reduce: r(3, 9), upsample: r(5, 15) }, 3);
  assert.deepEqual(g3.upsampleConcat, [4, 5, 6]);
  assert.equal(g3.upsample.length, 8);
  const text = formatDispGenotypeRepr(g3);
  assert.match(text, /normal_concat=range\(2, 5\).*upsample_concat=range\(4, 7\)\)$/);
  assert.deepEqual(parseDispGenotypeRepr(text), g3);
  assert.throws(() => parseDispGenotypeRepr("Genotype(normal=[('skip_connect', 0)])"), (e: unknown) => e instanceof GenotypeError && /not a DispGenotype/.test(e.message));
  assert.throws(() => parseDispGenotypeRepr(HAND_REPR.replace(/upsample=\[[^\]]*\], /, '')), /field upsample is missing/);
});

test('JSON: snake_case concat fields, round trip through JSON text', () => {
  const j = dispGenotypeToJSON(HAND);
  assert.deepEqual(Object.keys(j), ['normal', 'normal_concat', 'reduce', 'reduce_concat', 'upsample', 'upsample_concat']);
  assert.deepEqual(j.upsample_concat, [4, 5]);
  assert.deepEqual(dispGenotypeFromJSON(JSON.parse(JSON.stringify(j))), HAND);
  // the concat fields are optional (defaults from the gene counts)
  const { normal_concat: _a, reduce_concat: _b, upsample_concat: _c, ...bare } = j;
  assert.deepEqual(dispGenotypeFromJSON(bare), HAND);
  assert.throws(() => dispGenotypeFromJSON({ normal: HAND.normal, reduce: HAND.reduce }, 'g.json'), (e: unknown) => e instanceof GenotypeError && /g\.json: .*upsample/.test(e.message));
});

test('validation names the cell and the gene: bad op, bad source, upsampling node 0 out of order, wrong counts', () => {
  const bad = (patch: (g: DispGenotype) => void): DispGenotype => {
    const g = structuredClone(HAND);
    patch(g);
    return g;
  };
  const fails = (g: DispGenotype, re: RegExp) => assert.throws(() => validateDispGenotype(g, 'test'), (e: unknown) => e instanceof GenotypeError && re.test(e.message), String(re));
  fails(bad((g) => (g.reduce[1] = ['conv_7x1_1x7' as never, 1])), /^test: reduce\[1\] op 'conv_7x1_1x7' is not an S6 op/);
  fails(bad((g) => (g.normal[0] = ['none', 1])), /^test: normal\[0\] op 'none' is not an S6 op/);
  fails(bad((g) => (g.reduce[0] = ['frobnicate' as never, 0])), /reduce\[0\] op 'frobnicate'/);
  // normal gene 2 is node 1: inputs 0…2
  fails(bad((g) => (g.normal[2] = ['skip_connect', 3])), /^test: normal\[2\] takes input 3, node 1 has inputs 0…2/);
  fails(bad((g) => (g.normal[1] = ['skip_connect', 2])), /normal\[1\] takes input 2, node 0 has inputs 0…1/);
  // upsample gene 5 is node 1: inputs 0…4
  fails(bad((g) => (g.upsample[5] = ['skip_connect', 5])), /^test: upsample\[5\] takes input 5, node 1 has inputs 0…4/);
  fails(bad((g) => (g.upsample[2] = ['skip_connect', 1])), /^test: upsample\[2\] must read input 2/);
  fails(bad((g) => g.upsample.pop()), /4 \+ 2·\(steps − 1\) upsample genes \(got 4, 4, 5\)/);
  fails(bad((g) => g.reduce.push(['skip_connect', 0])), /got 4, 5, 6/);
  assert.equal(validateDispGenotype(HAND), 2);
});

test('one-hot rows: one 1 per gene at (edge, op), zero rows for the edges not kept', () => {
  const oh = dispGenotypeToOneHot(HAND);
  assert.equal(oh.normal.length, 5);
  assert.equal(oh.reduce.length, 5);
  assert.equal(oh.upsample.length, 9);
  const ones = (rows: number[][]) => rows.flatMap((r, e) => r.flatMap((x, k) => (x === 1 ? [[e, S6_OPS[k]]] : x === 0 ? [] : [[e, `bad ${x}`]])));
  // normal: node 0 edges 0, 1; node 1: edge 2 + source
  assert.deepEqual(ones(oh.normal), [[0, 'sep_conv_3x3'], [1, 'skip_connect'], [3, 'dil_conv_5x5'], [4, 'avg_pool_3x3']]);
  assert.deepEqual(ones(oh.reduce), [[0, 'dil_conv_5x5'], [1, 'sep_conv_5x5'], [2, 'max_pool_3x3'], [4, 'sep_conv_3x3']]);
  // upsample: node 0 edges 0…3, node 1 edges 4 + source (sources 4 and 0 → edges 8 and 4)
  assert.deepEqual(ones(oh.upsample), [[0, 'sep_conv_5x5'], [1, 'skip_connect'], [2, 'avg_pool_3x3'], [3, 'dil_conv_3x3'], [4, 'dil_conv_3x3'], [8, 'skip_connect']]);
  // the one-hot of a genotype derives back to the same genotype (the same genes per node; order within a node is by strength, here tied)
  const scaled = (rows: number[][]) => rows.map((r) => r.map((x) => 5 * x));
  const back = deriveDispGenotype({ normal: scaled(oh.normal), reduce: scaled(oh.reduce), upsample: scaled(oh.upsample) }, 2);
  const perNode = (genes: DispGenotype['normal'], first: number) => [genes.slice(0, first), ...[0, 1].map((k) => genes.slice(first + 2 * k, first + 2 * k + 2))].filter((n) => n.length).map((n) => n.map(([o, j]) => `${o}@${j}`).sort());
  for (const cell of ['normal', 'reduce'] as const) assert.deepEqual(perNode(back[cell], 2), perNode(HAND[cell], 2), cell);
  assert.deepEqual(perNode(back.upsample, 4), perNode(HAND.upsample, 4));
  assert.deepEqual(back.upsample.slice(0, 4), HAND.upsample.slice(0, 4));
});
