import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenotypeError } from '../../src/errors.js';
import {
  DARTS_V1,
  DARTS_V2,
  deriveGenotype,
  edgeIndex,
  formatGenotypeRepr,
  genotypeFitsSpace,
  genotypeSpaceProblems,
  genotypesEqual,
  getPublishedGenotype,
  getSpace,
  listPublishedGenotypes,
  parseGenotypeRepr,
  publishedGenotypeRepr,
} from '../../src/nas/index.js';
import { resultsArchGenotypes } from './fixtures.js';
import { robustDartsLogsDir } from '../helpers/fixtures.js';

// arch_1 of s1-cifar10-dp0.0-l2_3e-4 (test/fixtures), inline; the arch_1..3 test checks it against the file.
const ARCH_1 =
  "Genotype(normal=[('skip_connect', 1), ('dil_conv_3x3', 0), ('skip_connect', 2), ('skip_connect', 0), ('skip_connect', 0), ('skip_connect', 2), ('skip_connect', 2), ('skip_connect', 1)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=range(2, 6))";

test('repr: parse and format an inline genotype exactly', () => {
  const g = parseGenotypeRepr(ARCH_1);
  assert.deepEqual(g.normal[1], ['dil_conv_3x3', 0]);
  assert.deepEqual(g.reduce[7], ['max_pool_3x3', 1]);
  assert.deepEqual(g.normalConcat, [2, 3, 4, 5]);
  assert.equal(formatGenotypeRepr(g), ARCH_1);
});

const logs = robustDartsLogsDir();

test('repr round trip on every genotype of results_arch.yaml, and each fits its space', () => {
  const all = resultsArchGenotypes(logs!);
  assert.ok(all.length >= 200, `only ${all.length} genotypes read`);
  const spaces = new Set<string>();
  for (const { where, space, repr } of all) {
    const g = parseGenotypeRepr(repr, where);
    assert.equal(formatGenotypeRepr(g), repr, where);
    const problems = genotypeSpaceProblems(g, getSpace(space));
    assert.deepEqual(problems, [], `${where} in ${space}`);
    spaces.add(space);
  }
  assert.deepEqual([...spaces].sort(), ['s1', 's3']);
});

test('derive recovers every fixture genotype from a graded one-hot α (order included)', () => {
  for (const { where, space: name, repr } of resultsArchGenotypes(logs!)) {
    const space = getSpace(name);
    const g = parseGenotypeRepr(repr, where);
    const alpha = (cell: 'normal' | 'reduce') => {
      const a = space[cell].map((ops) => ops.map(() => 0));
      g[cell].forEach(([op, j], i) => {
        const e = edgeIndex(Math.floor(i / 2), j);
        a[e]![space[cell][e]!.indexOf(op)] = i % 2 === 0 ? 10 : 5; // first gene of a node strongest
      });
      return a;
    };
    assert.ok(genotypesEqual(deriveGenotype(alpha('normal'), alpha('reduce'), space), g), where);
  }
});

test('repr round trip on arch_1..3', () => {
  for (const n of [1, 2, 3]) {
    const text = readFileSync(join(logs!, 's1-cifar10-dp0.0-l2_3e-4', `arch_${n}`), 'utf8');
    const g = parseGenotypeRepr(text, `arch_${n}`);
    assert.equal(formatGenotypeRepr(g), text.trim());
    assert.ok(genotypeFitsSpace(g, getSpace('s1')));
  }
  assert.equal(readFileSync(join(logs!, 's1-cifar10-dp0.0-l2_3e-4', 'arch_1'), 'utf8').trim(), ARCH_1);
});

test('repr: accepted variants', () => {
  const g = parseGenotypeRepr(ARCH_1);
  const variants = [
    ARCH_1.replace(/'/g, '"'),
    'genotypes.' + ARCH_1,
    'GENOTYPE = ' + ARCH_1,
    ARCH_1.replace(/, /g, ',\n    ').replace('range(2,\n    6)', 'range( 2 ,6 )'),
    ARCH_1.replace(/range\(2, 6\)/g, '[2, 3, 4, 5]'),
    ARCH_1.replace(/range\(2, 6\)/g, '(2, 3, 4, 5,)'),
    ARCH_1.replace('normal=', '').replace('normal_concat=', '').replace('reduce=', '').replace('reduce_concat=', ''),
    ARCH_1.replace("('skip_connect', 1), ('dil_conv_3x3', 0)", "[('skip_connect', 1), ('dil_conv_3x3', 0),]"),
    `\n  ${ARCH_1}  \n`,
  ];
  for (const v of variants) assert.ok(genotypesEqual(parseGenotypeRepr(v), g), v);
  // keyword order does not matter
  const reordered = `Genotype(reduce_concat=range(2, 6), reduce=${formatGenotypeRepr(g).split('reduce=')[1]!.split(', reduce_concat')[0]}, normal=${ARCH_1.split('normal=')[1]!.split(', normal_concat')[0]}, normal_concat=range(2, 6))`;
  assert.ok(genotypesEqual(parseGenotypeRepr(reordered), g));
  // range(b) and non-contiguous concat printed as a list
  const odd = parseGenotypeRepr(ARCH_1.replace('normal_concat=range(2, 6)', 'normal_concat=range(6)').replace('reduce_concat=range(2, 6)', 'reduce_concat=[2, 4, 5]'));
  assert.deepEqual(odd.normalConcat, [0, 1, 2, 3, 4, 5]);
  assert.match(formatGenotypeRepr(odd), /normal_concat=range\(0, 6\), reduce=.*reduce_concat=\[2, 4, 5\]\)$/);
});

function reprErr(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof GenotypeError, `expected GenotypeError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  };
}

test('repr: errors give the position', () => {
  const col = ARCH_1.indexOf('dil_conv_3x3') ; // 0-based offset of the name; the quote is one before
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace('dil_conv_3x3', 'dil_conv_4x4'), 'arch_x'), reprErr(new RegExp(`^arch_x: unknown op 'dil_conv_4x4' at line 1, column ${col}; known ops`)));
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace('reduce_concat=range(2, 6)', 'reduce_concat=range(2, 6)').replace(/\)$/, ') extra')), reprErr(/unexpected text after the closing parenthesis at line 1, column \d+ \(found 'extra'\)/));
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace(', reduce_concat=range(2, 6)', '')), reprErr(/missing field 'reduce_concat'/));
  assert.throws(() => parseGenotypeRepr("Genotype(normal=[('skip_connect' 1)])"), reprErr(/expected ',' at line 1, column 34 \(found '1'\)/));
  assert.throws(() => parseGenotypeRepr("Genotype(normal=[('skip_connect',\n 1), ('skip_connect', 1; ]"), reprErr(/unexpected character ';' at line 2, column 24/));
  assert.throws(() => parseGenotypeRepr('Genome(normal=[])'), reprErr(/expected 'Genotype' at line 1, column 1/));
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace("('skip_connect', 2), ('skip_connect', 0)", "('skip_connect', 3), ('skip_connect', 0)")), reprErr(/normal\[2\] \(node 1\) at line 1, column \d+: source 3 is out of range/));
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace('normal_concat=range(2, 6)', 'normal_concat=range(2, 7)')), reprErr(/normal_concat \(at line 1, column \d+\): 6 is not a state of a 4-node cell/));
  assert.throws(() => parseGenotypeRepr(ARCH_1.replace('normal=', 'normals=')), reprErr(/unknown field 'normals'/));
  assert.throws(() => parseGenotypeRepr(''), reprErr(/expected 'Genotype\(' at line 1, column 1 \(found end of text\)/));
});

test('published cells: DARTS_V1 and DARTS_V2', () => {
  assert.deepEqual(listPublishedGenotypes(), ['DARTS_V1', 'DARTS_V2']);
  assert.deepEqual(DARTS_V2.normal, [
    ['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['sep_conv_3x3', 1],
    ['sep_conv_3x3', 1], ['skip_connect', 0], ['skip_connect', 0], ['dil_conv_3x3', 2],
  ]);
  assert.deepEqual(DARTS_V2.reduce, [
    ['max_pool_3x3', 0], ['max_pool_3x3', 1], ['skip_connect', 2], ['max_pool_3x3', 1],
    ['max_pool_3x3', 0], ['skip_connect', 2], ['skip_connect', 2], ['max_pool_3x3', 1],
  ]);
  assert.deepEqual(DARTS_V1.normal, [
    ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 0], ['sep_conv_3x3', 1],
    ['skip_connect', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 2],
  ]);
  assert.deepEqual(DARTS_V1.reduce[7], ['avg_pool_3x3', 0]);
  assert.ok(genotypesEqual(getPublishedGenotype('darts'), DARTS_V2));
  assert.ok(genotypeFitsSpace(DARTS_V1, getSpace('darts')));
  // published with list concats; printed back in the range form
  assert.match(publishedGenotypeRepr('DARTS_V2'), /normal_concat=\[2, 3, 4, 5\]/);
  assert.match(formatGenotypeRepr(DARTS_V2), /normal_concat=range\(2, 6\)/);
  assert.throws(() => getPublishedGenotype('PDARTS'), GenotypeError);
  // copies
  getPublishedGenotype('DARTS_V2').normal.pop();
  assert.equal(DARTS_V2.normal.length, 8);
});
