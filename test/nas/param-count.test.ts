import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { DATASET_NAMES, DATASET_SHAPES } from '../../src/data/dataset.js';
import { pinTestThreads } from '../helpers/threads.js';
import {
  Network,
  countSearchParameters,
  factorizedReduceParameters,
  getSpace,
  listSpaces,
  macroLayout,
  reductionCells,
  opParameters,
  searchParameterBreakdown,
  spaceFromObject,
  type SearchSpace,
} from '../../src/nas/index.js';

pinTestThreads();

const PAPER = { C: 16, layers: 8, numClasses: 10 };

test('opParameters by hand (C=16, search BN affine=False)', () => {
  assert.equal(opParameters('none', 16, 2), 0);
  assert.equal(opParameters('noise', 16, 1), 0);
  assert.equal(opParameters('max_pool_3x3', 16, 2), 0);
  assert.equal(opParameters('avg_pool_3x3', 16, 1), 0);
  assert.equal(opParameters('skip_connect', 16, 1), 0);
  assert.equal(opParameters('skip_connect', 16, 2), 256); // two 1×1 convs 16→8
  assert.equal(opParameters('sep_conv_3x3', 16, 1), 800); // 2·(16·9 + 16·16)
  assert.equal(opParameters('sep_conv_5x5', 16, 2), 1312); // 2·(16·25 + 256)
  assert.equal(opParameters('sep_conv_7x7', 16, 1), 2080); // 2·(16·49 + 256)
  assert.equal(opParameters('dil_conv_3x3', 16, 1), 400); // 16·9 + 256
  assert.equal(opParameters('dil_conv_5x5', 16, 2), 656); // 16·25 + 256
  assert.equal(opParameters('conv_7x1_1x7', 16, 1), 3584); // 2·7·256
  // evaluation-style BN affine=True adds 2C per BN
  assert.equal(opParameters('sep_conv_3x3', 16, 1, true), 800 + 64);
  assert.equal(opParameters('skip_connect', 16, 2, true), 256 + 32);
  assert.equal(opParameters('max_pool_3x3', 16, 1, true), 0);
});

test('S1 search supernet on CIFAR-10, 8 cells, C=16 has exactly 405,146 parameters (official logs)', () => {
  assert.equal(countSearchParameters(getSpace('s1'), PAPER), 405_146);
});

// Counts from countSearchParameters at 8 cells / C=16 / 10 classes / 3 input channels:
//   darts  1,930,618   (= "param size = 1.930618MB" of the original DARTS search logs)
//   s1       405,146   (official RobustDARTS S1 logs)
//   s2       665,466
//   s3       665,466   (none has no weights; spec: S3 on SVHN ≈ 0.665 M)
//   s4       624,506
test('parameter counts of the other shipped spaces', () => {
  assert.equal(countSearchParameters(getSpace('darts'), PAPER), 1_930_618);
  assert.equal(countSearchParameters(getSpace('s2'), PAPER), 665_466);
  assert.equal(countSearchParameters(getSpace('s3'), PAPER), 665_466);
  assert.equal(countSearchParameters(getSpace('s4'), PAPER), 624_506);
});

test('breakdown: stem, reductions, classifier', () => {
  const b = searchParameterBreakdown(getSpace('s2'), PAPER);
  assert.equal(b.stem, 3 * 48 * 9 + 2 * 48);
  assert.deepEqual(b.cells.filter((c) => c.reduction).map((c) => c.index), [2, 5]);
  assert.deepEqual(b.cells.map((c) => c.C), [16, 16, 32, 32, 32, 64, 64, 64]);
  assert.equal(b.classifier, 256 * 10 + 10);
  // cell 0: pre0 = pre1 = 48·16; 14 edges × sep_conv_3x3(16)
  assert.equal(b.cells[0]!.preprocess, 2 * 48 * 16);
  assert.equal(b.cells[0]!.edges, 14 * 800);
  // cell 3 follows a reduction: pre0 = FactorizedReduce(64 → 32) = 64·32; pre1 = 128·32
  assert.equal(b.cells[3]!.preprocess, 64 * 32 + 128 * 32);
  // cell 2 (reduction, C=32): 8 edges from inputs with stride 2 (skip = FR 32²), 5 from nodes
  assert.equal(b.cells[2]!.edges, 14 * opParameters('sep_conv_3x3', 32, 1) + 8 * 32 * 32);
  assert.equal(b.total, countSearchParameters(getSpace('s2'), PAPER));
  // fewer classes only shrink the classifier
  assert.equal(countSearchParameters(getSpace('s2'), { ...PAPER, numClasses: 100 }) - b.total, 90 * 257);
});

test('parameter count of a user space and bad sizes', () => {
  const s = spaceFromObject({ name: 'skip-only', normal: ['skip_connect'], reduce: ['skip_connect'] });
  // no weights on normal edges; reduction cells: 8 stride-2 skips each (2 per node)
  const b = searchParameterBreakdown(s, PAPER);
  assert.equal(b.cells[0]!.edges, 0);
  assert.equal(b.cells[5]!.edges, 8 * 64 * 64);
  // odd C is fine: FactorizedReduce only ever runs at doubled (even) widths in this macro
  assert.equal(countSearchParameters(s, { ...PAPER, C: 15 }) > 0, true);
  assert.throws(() => factorizedReduceParameters(8, 15), ConfigError);
  assert.throws(() => countSearchParameters(s, { ...PAPER, C: 0 }), ConfigError);
  assert.throws(() => countSearchParameters(s, { ...PAPER, layers: 0 }), ConfigError);
});

/** Parameters of the supernet as built (tensors), for the cross-check against the analytic count. */
function builtCount(space: SearchSpace, size: { C: number; layers: number; numClasses: number; inChannels?: number }): number {
  const net = new Network({ space, ...size });
  try {
    return net.numParameters();
  } finally {
    net.dispose();
  }
}

// `rdarts info` prints the analytic count only; this is the cross-check it once did by building
// the network: every shipped space, on every dataset's shape, at several macro sizes.
test('the built supernet has exactly the analytic count: every shipped space × every dataset shape × several sizes', () => {
  const sizes = [
    { C: 4, layers: 5 },
    { C: 3, layers: 1 },
    { C: 2, layers: 2 },
    { C: 6, layers: 3 },
    { C: 15, layers: 4 },
  ];
  for (const name of listSpaces()) {
    const space = getSpace(name);
    for (const dataset of DATASET_NAMES) {
      const { numClasses, inChannels } = DATASET_SHAPES[dataset];
      for (const s of sizes) {
        const size = { ...s, numClasses, inChannels };
        assert.equal(builtCount(space, size), countSearchParameters(space, size), `${name} / ${dataset} / ${JSON.stringify(s)}`);
      }
    }
  }
});

test('the built supernet has exactly the analytic count: paper size (8 cells, C=16) for every shipped space and dataset shape; user spaces', () => {
  for (const name of listSpaces()) {
    const space = getSpace(name);
    for (const dataset of ['cifar10', 'cifar100', 'fashion-mnist'] as const) {
      const { numClasses, inChannels } = DATASET_SHAPES[dataset];
      const size = { ...PAPER, numClasses, inChannels };
      assert.equal(builtCount(space, size), countSearchParameters(space, size), `${name} / ${dataset}`);
    }
  }
  const ragged = spaceFromObject({
    name: 'ragged',
    normal: Array.from({ length: 14 }, (_, e) => (e % 3 === 0 ? ['skip_connect'] : e % 3 === 1 ? ['skip_connect', 'sep_conv_3x3'] : ['none', 'avg_pool_3x3', 'dil_conv_3x3'])),
    reduce: ['max_pool_3x3', 'skip_connect'],
  });
  const wide = spaceFromObject({ name: 'wide', normal: ['sep_conv_7x7', 'conv_7x1_1x7', 'noise'], reduce: ['dil_conv_5x5', 'skip_connect', 'avg_pool_3x3'] });
  const small = spaceFromObject({ name: 'small', steps: 2, normal: ['skip_connect', 'sep_conv_3x3'], reduce: ['max_pool_3x3', 'skip_connect'] });
  for (const space of [ragged, wide, small]) {
    for (const size of [PAPER, { C: 4, layers: 5, numClasses: 100, inChannels: 1 }]) {
      assert.equal(builtCount(space, size), countSearchParameters(space, size), `${space.name} / ${JSON.stringify(size)}`);
    }
  }
  assert.equal(countSearchParameters(ragged, PAPER), 319_162);
});

test('macro layout: reduction cells, channel plan per cell, auxiliary cell', () => {
  assert.deepEqual(reductionCells(8), [2, 5]);
  assert.deepEqual(reductionCells(20), [6, 13]);
  assert.deepEqual(reductionCells(1), [0]);
  assert.deepEqual(reductionCells(2), [0, 1]);
  const m = macroLayout({ C: 16, layers: 8, stemMultiplier: 3, multiplier: 4 });
  assert.equal(m.stemChannels, 48);
  assert.deepEqual(
    m.cells.map((c) => [c.Cpp, c.Cp, c.C, c.Cout, c.reduction, c.reductionPrev]),
    [
      [48, 48, 16, 64, false, false],
      [48, 64, 16, 64, false, false],
      [64, 64, 32, 128, true, false],
      [64, 128, 32, 128, false, true],
      [128, 128, 32, 128, false, false],
      [128, 128, 64, 256, true, false],
      [128, 256, 64, 256, false, true],
      [256, 256, 64, 256, false, false],
    ],
  );
  assert.equal(m.outChannels, 256);
  assert.equal(m.auxiliaryCell, 5);
  // per-cell-type multipliers (an evaluation genotype whose reduce cell concatenates 3 states)
  const e = macroLayout({ C: 4, layers: 3, stemMultiplier: 3, multiplier: { normal: 4, reduce: 3 } });
  assert.deepEqual(e.cells.map((c) => c.Cout), [16, 24, 48]);
});
