import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GenotypeError } from '../../src/errors.js';
import {
  DARTS_RNN_SPACE,
  RNN_DARTS_V1,
  RNN_DARTS_V2,
  RNN_PRIMITIVES,
  deriveRnnGenotype,
  formatRnnGenotypeRepr,
  getPublishedRnnGenotype,
  listPublishedRnnGenotypes,
  numRnnEdges,
  parseRnnGenotypeRepr,
  publishedRnnGenotypeRepr,
  rnnAlphaShape,
  rnnEdgeIndex,
  rnnGenotypeFromJSON,
  rnnGenotypeToDot,
  rnnGenotypeToJSON,
  rnnGenotypeToOneHot,
  rnnGenotypesEqual,
  type RnnGenotype,
} from '../../src/nas/rnn/index.js';

// the strings of DARTS rnn/genotypes.py, typed in here (not read from src) so a typo there fails
const V2_REPR = "Genotype(recurrent=[('sigmoid', 0), ('relu', 1), ('relu', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))";
const V1_REPR = "Genotype(recurrent=[('relu', 0), ('relu', 1), ('tanh', 2), ('relu', 3), ('relu', 4), ('identity', 1), ('relu', 5), ('relu', 1)], concat=range(1, 9))";

test('space: 8 nodes, 36 edges, α [36, 5], edge index node by node', () => {
  assert.deepEqual([...RNN_PRIMITIVES], ['none', 'tanh', 'relu', 'sigmoid', 'identity']);
  assert.equal(numRnnEdges(8), 36);
  assert.deepEqual(rnnAlphaShape(), [36, 5]);
  assert.equal(rnnEdgeIndex(1, 0), 0);
  assert.equal(rnnEdgeIndex(2, 0), 1);
  assert.equal(rnnEdgeIndex(2, 1), 2);
  assert.equal(rnnEdgeIndex(3, 0), 3);
  assert.equal(rnnEdgeIndex(8, 7), 35);
  assert.throws(() => rnnEdgeIndex(3, 3), RangeError);
});

test('repr: the published cells parse to the genes of DARTS rnn/genotypes.py and print back exactly', () => {
  const v2 = parseRnnGenotypeRepr(V2_REPR);
  assert.deepEqual(v2.recurrent[0], ['sigmoid', 0]);
  assert.deepEqual(v2.recurrent[5], ['sigmoid', 5]);
  assert.deepEqual(v2.concat, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(formatRnnGenotypeRepr(v2), V2_REPR);
  assert.equal(formatRnnGenotypeRepr(parseRnnGenotypeRepr(V1_REPR)), V1_REPR);
  assert.ok(rnnGenotypesEqual(RNN_DARTS_V2, v2));
  assert.ok(rnnGenotypesEqual(RNN_DARTS_V1, parseRnnGenotypeRepr(V1_REPR)));
  assert.ok(rnnGenotypesEqual(getPublishedRnnGenotype('darts'), v2), 'DARTS is an alias of DARTS_V2');
  assert.deepEqual(listPublishedRnnGenotypes(), ['DARTS_V1', 'DARTS_V2', 'ENAS']);
  for (const name of listPublishedRnnGenotypes()) {
    const r = publishedRnnGenotypeRepr(name);
    assert.equal(formatRnnGenotypeRepr(parseRnnGenotypeRepr(r)), r, name);
  }
  const enas = getPublishedRnnGenotype('ENAS');
  assert.equal(enas.recurrent.length, 11);
  assert.deepEqual(enas.concat, [2, 5, 6, 9, 10, 11]);
  assert.match(formatRnnGenotypeRepr(enas), /concat=\[2, 5, 6, 9, 10, 11\]\)$/);
  assert.throws(() => getPublishedRnnGenotype('NOPE'), GenotypeError);
});

test('repr: list concats, double quotes, line breaks, NAME =, module prefix, positional arguments, trailing commas', () => {
  const text = `DARTS_V2 = genotypes.Genotype(
      [("sigmoid", 0), ("relu", 1), ("relu", 1), ("identity", 1),
       ("tanh", 2), ("sigmoid", 5), ("tanh", 3), ("relu", 5),],
      [1, 2, 3, 4, 5, 6, 7, 8],
  )`;
  assert.ok(rnnGenotypesEqual(parseRnnGenotypeRepr(text), RNN_DARTS_V2));
  const kw = "Genotype(concat=(1, 2), recurrent=[('tanh', 0), ('relu', 0)])";
  const g = parseRnnGenotypeRepr(kw);
  assert.deepEqual(g, { recurrent: [['tanh', 0], ['relu', 0]], concat: [1, 2] });
  assert.equal(formatRnnGenotypeRepr(g), "Genotype(recurrent=[('tanh', 0), ('relu', 0)], concat=range(1, 3))");
  assert.deepEqual(parseRnnGenotypeRepr("Genotype(recurrent=[('tanh', 0)], concat=range(2))").concat, [0, 1]);
});

test('repr: errors name the gene, the node and the place', () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => parseRnnGenotypeRepr(text),
      (e: unknown) => e instanceof GenotypeError && re.test(e.message),
      `${text} should fail with ${re}`,
    );
  bad("Genotype(recurrent=[('tanh', 0), ('none', 1)], concat=range(1, 3))", /recurrent\[1\] \(node 2\) at line 1, column 34: unknown recurrent op 'none'/);
  bad("Genotype(recurrent=[('tanh', 0), ('relu', 2)], concat=range(1, 3))", /node 2.*source 2 is out of range; node 2 takes states 0\.\.1/);
  bad("Genotype(recurrent=[('tanh', 0)],\n  concat=range(1, 3))", /concat entry 2 is not a state of a 1-node cell/);
  bad("Genotype(recurrent=[('tanh', 0)], concat=[1, 1])", /concat lists state 1 twice/);
  bad("Genotype(recurrent=[('tanh', 0)])", /missing field 'concat'/);
  bad("Genotype(recurrent=[('tanh', 0)], normal=[], concat=[1])", /unknown field 'normal'/);
  bad("Genotype(recurrent=[('tanh' 0)], concat=[1])", /expected ',' at line 1, column 29/);
  bad('Genotype(recurrent=[], concat=[1])', /non-empty list/);
  bad("Genotype(recurrent=[('tanh', 0)], concat=[1]) extra", /unexpected text after the closing parenthesis/);
});

test('JSON form: round trip, and a reader that names fields', () => {
  const j = rnnGenotypeToJSON(RNN_DARTS_V2);
  assert.deepEqual(j.recurrent[4], ['tanh', 2]);
  assert.ok(rnnGenotypesEqual(rnnGenotypeFromJSON(JSON.stringify(j)), RNN_DARTS_V2));
  assert.throws(() => rnnGenotypeFromJSON({ ...j, normal: [] }), /unknown field 'normal'/);
  assert.throws(() => rnnGenotypeFromJSON({ recurrent: [['tanh', 1]], concat: [1] }), /recurrent\[0\] \(node 1\): source 1 is out of range/);
  assert.throws(() => rnnGenotypeFromJSON('{'), /not valid JSON/);
});

/** α rows [36][5] at 0, with `hot` entries set: [edge, column, value]. */
function alphaWith(hot: Array<[number, number, number]>): number[][] {
  const a = Array.from({ length: 36 }, () => [0, 0, 0, 0, 0]);
  for (const [e, k, v] of hot) a[e]![k] = v;
  return a;
}

test('derivation (DARTS rule) on a hand-made α: per node the edge with the strongest non-none op, none never chosen', () => {
  // columns: 0 none, 1 tanh, 2 relu, 3 sigmoid, 4 identity
  const a = alphaWith([
    [rnnEdgeIndex(1, 0), 3, 2], // node 1: only edge, sigmoid
    [rnnEdgeIndex(2, 0), 0, 9], // node 2: none huge on edge from 0 — ignored for the edge strength…
    [rnnEdgeIndex(2, 1), 2, 1], // …edge from 1 with relu 1 wins (softmax weight of relu there > any non-none on edge 0)
    [rnnEdgeIndex(3, 2), 4, 1.5], // node 3 from 2: identity
    [rnnEdgeIndex(4, 0), 1, 1], // node 4: tanh on edge 0 vs relu on edge 3, equal → lower source (0)
    [rnnEdgeIndex(4, 3), 2, 1],
  ]);
  const g = deriveRnnGenotype(a);
  // node 2, edge from 0: softmax of [9, 0, 0, 0, 0] gives every non-none op ≈ 1.2e-4, edge from 1 gives relu e/(e+4) ≈ 0.40
  assert.deepEqual(g.recurrent.slice(0, 4), [
    ['sigmoid', 0],
    ['relu', 1],
    ['identity', 2],
    ['tanh', 0],
  ]);
  // nodes 5..8: all-zero rows → all ties → source 0, first non-none op (tanh)
  assert.deepEqual(g.recurrent.slice(4), [
    ['tanh', 0],
    ['tanh', 0],
    ['tanh', 0],
    ['tanh', 0],
  ]);
  assert.deepEqual(g.concat, [1, 2, 3, 4, 5, 6, 7, 8]);
  // one-hot α of DARTS_V2, scaled, derives DARTS_V2 back
  const oh = rnnGenotypeToOneHot(RNN_DARTS_V2);
  assert.equal(oh.flat().reduce((s, x) => s + x, 0), 8);
  assert.equal(oh[rnnEdgeIndex(6, 5)]![3], 1, 'node 6 takes sigmoid from state 5');
  assert.ok(rnnGenotypesEqual(deriveRnnGenotype(oh.map((r) => r.map((x) => 5 * x))), RNN_DARTS_V2));
  assert.throws(() => deriveRnnGenotype(a.slice(1)), /α has 35 rows, a 8-node cell has 36 edges/);
  assert.throws(() => deriveRnnGenotype(alphaWith([[0, 1, NaN]])), /α\[0\]\[1\] is NaN/);
  assert.equal(DARTS_RNN_SPACE.steps, 8);
});

test('cell diagram: x_t and h_{t-1} into state 0, one labelled edge per gene, the concat states into h_t', () => {
  const dot = rnnGenotypeToDot(RNN_DARTS_V2);
  assert.match(dot, /^digraph recurrent_cell \{/);
  assert.match(dot, /x_t -> n0/);
  assert.match(dot, /h_prev -> n0/);
  assert.match(dot, /n0 -> n1 \[label="sigmoid"/);
  assert.match(dot, /n5 -> n8 \[label="relu"/);
  assert.equal((dot.match(/-> h_t/g) ?? []).length, 8);
  assert.equal((dot.match(/label="(tanh|relu|sigmoid|identity)"/g) ?? []).length, 8);
  const small: RnnGenotype = { recurrent: [['tanh', 0], ['relu', 1]], concat: [2] };
  assert.equal((rnnGenotypeToDot(small).match(/-> h_t/g) ?? []).length, 1);
});
