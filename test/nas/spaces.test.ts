import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { ConfigError } from '../../src/errors.js';
import {
  PRIMITIVES,
  isPrimitiveName,
  alphaShape,
  alphaSizes,
  edgeIndex,
  edgeLabel,
  edgeSource,
  edgeStride,
  geneEdge,
  geneNode,
  getSpace,
  hasSpace,
  listSpaces,
  loadSpaceFile,
  nodeSources,
  numEdges,
  parseSpaceText,
  resolveSpace,
  spaceFromObject,
  sourceStride,
  spaceToObject,
} from '../../src/nas/index.js';

test('primitives: 11 names, type guard', () => {
  assert.equal(PRIMITIVES.length, 11);
  assert.ok(isPrimitiveName('noise'));
  assert.ok(isPrimitiveName('conv_7x1_1x7'));
  assert.ok(!isPrimitiveName('sep_conv_9x9'));
  assert.ok(!isPrimitiveName(3));
});

test('edge indexing follows spec §2.1 and is invertible', () => {
  assert.equal(numEdges(4), 14);
  assert.equal(numEdges(5), 20);
  assert.equal(numEdges(1), 2);
  assert.equal(edgeIndex(0, 0), 0);
  assert.equal(edgeIndex(1, 0), 2);
  assert.equal(edgeIndex(2, 3), 8);
  assert.equal(edgeIndex(3, 0), 9);
  assert.equal(edgeIndex(3, 4), 13);
  for (let e = 0; e < 20; e++) {
    const { node, source } = edgeSource(e);
    assert.ok(source < node + 2);
    assert.equal(edgeIndex(node, source), e);
  }
  assert.deepEqual(edgeSource(5), { node: 2, source: 0 });
  assert.equal(edgeLabel(12), 'edge 12 (node 3 <- node 1)');
  assert.equal(edgeLabel(1), 'edge 1 (node 0 <- input 1)');
  assert.throws(() => edgeIndex(1, 3), RangeError);
  assert.throws(() => numEdges(0), ConfigError);
});

test('gene positions, node sources and strides', () => {
  assert.deepEqual([0, 1, 2, 3, 7].map(geneNode), [0, 0, 1, 1, 3]);
  assert.equal(geneEdge(5, 2), edgeIndex(2, 2));
  assert.equal(geneEdge(7, 4), 13);
  assert.deepEqual([0, 1, 3].map(nodeSources), [2, 3, 5]);
  assert.equal(Array.from({ length: 4 }, (_, n) => nodeSources(n)).reduce((a, b) => a + b, 0), numEdges(4));
  assert.equal(sourceStride(0, true), 2);
  assert.equal(sourceStride(1, true), 2);
  assert.equal(sourceStride(2, true), 1);
  assert.equal(sourceStride(0, false), 1);
  // reduction cell of 4 nodes: edges from the two inputs (8 of 14) have stride 2
  const strides = Array.from({ length: 14 }, (_, e) => edgeStride(e, true));
  assert.deepEqual(strides, [2, 2, 2, 2, 1, 2, 2, 1, 1, 2, 2, 1, 1, 1]);
  assert.ok(Array.from({ length: 14 }, (_, e) => edgeStride(e, false)).every((x) => x === 1));
});

test('registry: names, case-insensitive; s5 is the paper\'s toy space (issue 11), apart from the list', () => {
  assert.deepEqual(listSpaces(), ['darts', 's1', 's2', 's3', 's4']);
  assert.equal(getSpace('S1').name, 's1');
  assert.equal(getSpace(' Darts ').name, 'darts');
  assert.equal(getSpace('s5-code').name, 'darts');
  assert.ok(hasSpace('S4'));
  // issue 11: S5 is now provided (docs/s5.md) — it used to be refused as 'not provided'
  assert.ok(hasSpace('s5'));
  assert.equal(getSpace('S5').name, 's5');
  assert.equal(getSpace('s5').steps, 1);
  assert.throws(() => getSpace('s9'), (e: unknown) => e instanceof ConfigError && /known spaces: darts, s1, s2, s3, s4/.test(e.message));
  // Copies: mutating one does not change the registry.
  const a = getSpace('s2');
  a.normal[0]!.push('noise');
  assert.equal(getSpace('s2').normal[0]!.length, 2);
});

test('shipped spaces: op lists and α sizes', () => {
  const darts = getSpace('darts');
  assert.deepEqual(darts.normal[7], ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
  assert.equal(alphaSizes(darts), 224);
  const s1 = getSpace('s1');
  assert.equal(s1.normal.length, 14);
  assert.deepEqual(s1.normal[5], ['max_pool_3x3', 'skip_connect']);
  assert.deepEqual(s1.normal[12], ['dil_conv_3x3', 'dil_conv_5x5']);
  assert.deepEqual(s1.reduce[1], ['max_pool_3x3', 'dil_conv_3x3']);
  assert.deepEqual(s1.reduce[6], ['max_pool_3x3', 'sep_conv_3x3']);
  assert.deepEqual(s1.reduce[7], ['skip_connect', 'dil_conv_3x3']);
  assert.equal(alphaSizes(s1), 56);
  assert.deepEqual(getSpace('s3').reduce[13], ['none', 'skip_connect', 'sep_conv_3x3']);
  assert.equal(alphaSizes(getSpace('s3')), 84);
  assert.deepEqual(getSpace('s4').normal[0], ['noise', 'sep_conv_3x3']);
  assert.equal(alphaSizes(getSpace('s4')), 56);
  const shape = alphaShape(s1);
  assert.equal(shape.normal.edges, 14);
  assert.equal(shape.normal.maxOps, 2);
  assert.ok(shape.normal.uniform && shape.reduce.uniform);
});

const S1_YAML_EDGE_LISTS = `name: custom
normal: [none, skip_connect, sep_conv_3x3]
reduce:
${Array.from({ length: 14 }, (_, i) => (i === 3 ? '  - [max_pool_3x3]' : '  - [max_pool_3x3, avg_pool_3x3]')).join('\n')}
`;

test('user space from YAML: uniform list and per-edge lists, ragged α', () => {
  const s = parseSpaceText(S1_YAML_EDGE_LISTS, 'space file custom.yaml');
  assert.equal(s.name, 'custom');
  assert.equal(s.steps, 4);
  assert.equal(s.normal.length, 14);
  assert.deepEqual(s.normal[13], ['none', 'skip_connect', 'sep_conv_3x3']);
  assert.deepEqual(s.reduce[3], ['max_pool_3x3']);
  const shape = alphaShape(s);
  assert.equal(shape.reduce.uniform, false);
  assert.equal(shape.reduce.maxOps, 2);
  assert.equal(shape.reduce.opsPerEdge[3], 1);
  assert.equal(shape.reduce.size, 27);
  assert.equal(alphaSizes(s), 42 + 27);
});

test('user space from object: {ops} and {edges} forms, steps, JSON text', () => {
  const s = spaceFromObject({ name: 'tiny', steps: 2, normal: { ops: ['skip_connect'] }, reduce: { edges: [['max_pool_3x3'], ['avg_pool_3x3'], ['skip_connect'], ['noise'], ['sep_conv_5x5']] } });
  assert.equal(numEdges(2), 5);
  assert.equal(s.normal.length, 5);
  assert.deepEqual(s.reduce[4], ['sep_conv_5x5']);
  const j = parseSpaceText(JSON.stringify({ name: 'j', normal: ['noise', 'skip_connect'], reduce: ['noise'] }), 'x.json');
  assert.deepEqual(j.reduce[10], ['noise']);
  // compact form round trip
  const back = spaceFromObject(spaceToObject(getSpace('s1')));
  assert.deepEqual(back.normal, getSpace('s1').normal);
  assert.deepEqual(spaceToObject(getSpace('s2')).normal, ['skip_connect', 'sep_conv_3x3']);
});

function configErr(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    assert.match(e.message, re);
    assert.ok(e.hint && e.hint.length > 0);
    return true;
  };
}

test('space validation errors name the place', () => {
  const perEdge = Array.from({ length: 14 }, () => ['skip_connect', 'sep_conv_3x3']);
  perEdge[5] = ['skip_connect', 'sep_conv_9x9'];
  assert.throws(
    () => spaceFromObject({ name: 'x', normal: perEdge, reduce: ['skip_connect'] }, 'space file x.yaml'),
    configErr(/^space file x\.yaml: normal edge 5 \(node 2 <- input 0\): unknown op 'sep_conv_9x9'; known ops: none, noise,/),
  );
  assert.throws(
    () => spaceFromObject({ name: 'x', normal: ['skip_connect'], reduce: perEdge.slice(0, 13) }, 'space file x.yaml'),
    configErr(/reduce has 13 edge op lists, but a cell with 4 intermediate nodes has 14 edges/),
  );
  assert.throws(() => spaceFromObject({ name: 'x', normal: ['skip_connect', 'skip_connect'], reduce: ['noise'] }), configErr(/normal \(all edges\): op 'skip_connect' listed twice/));
  assert.throws(() => spaceFromObject({ name: 'x', normal: ['none'], reduce: ['noise'] }), configErr(/only op is 'none'/));
  assert.throws(() => spaceFromObject({ name: 'x', normal: ['noise'] }), configErr(/missing 'reduce'/));
  assert.throws(() => spaceFromObject({ name: 'x', normal: ['noise'], reduction: ['noise'] }), configErr(/unknown key 'reduction'/));
  assert.throws(() => spaceFromObject({ normal: ['noise'], reduce: ['noise'] }), configErr(/'name' must be a non-empty string/));
  assert.throws(() => spaceFromObject({ name: 'x', steps: 0, normal: ['noise'], reduce: ['noise'] }), configErr(/'steps' must be a positive integer/));
  assert.throws(() => spaceFromObject({ name: 'x', normal: ['noise', ['skip_connect']], reduce: ['noise'] }), configErr(/not a mix/));
  assert.throws(() => spaceFromObject({ name: 'x', normal: { op: ['noise'] }, reduce: ['noise'] }), configErr(/expected exactly 'ops' or 'edges'/));
  assert.throws(() => parseSpaceText('name: x\nnormal: [noise\n', 'space file bad.yaml'), configErr(/space file bad\.yaml: not valid YAML/));
});

test('space files: load, resolve, unreadable path', () => {
  const dir = makeTempDir('space');
  try {
    const good = join(dir, 'mine.yaml');
    writeFileSync(good, 'name: mine\nnormal: [skip_connect, sep_conv_3x3]\nreduce: {ops: [max_pool_3x3, skip_connect]}\n');
    const s = loadSpaceFile(good);
    assert.equal(s.name, 'mine');
    assert.deepEqual(s.reduce[9], ['max_pool_3x3', 'skip_connect']);
    assert.equal(resolveSpace(good).name, 'mine');
    assert.equal(resolveSpace('S3').name, 's3');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nnormal: [skip_connect, dil_conv_7x7]\nreduce: [skip_connect]\n');
    assert.throws(() => loadSpaceFile(bad), configErr(new RegExp(`^space file ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: normal \\(all edges\\): unknown op 'dil_conv_7x7'`)));
    assert.throws(() => loadSpaceFile(join(dir, 'missing.yaml')), configErr(/cannot be read \(ENOENT\)/));
    assert.throws(() => resolveSpace('nonexistent-space'), configErr(/unknown search space/));
  } finally {
    removeDir(dir);
  }
});
