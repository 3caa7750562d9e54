/**
 * DARTS_V2 at 20 cells / 36 channels on CIFAR-10: the DARTS paper's 3.3 M parameters, derived
 * here by hand op by op (not from src/nas/param-count.ts), with and without the auxiliary head,
 * against the built network and `rdarts info --genotype … --json`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvalNetwork, getPublishedGenotype } from '../../src/nas/index.js';
import { cli } from './helpers.js';

/** Hand count of DARTS_V2's evaluation network (NetworkCIFAR) for `layers` cells, `C` channels. */
function handCount(layers: number, C0: number, classes: number): { net: number; aux: number } {
  const bn = (c: number): number => 2 * c; // affine BN: weight + bias
  // normal cell of DARTS_V2: 5 × sep_conv_3x3, 1 × dil_conv_3x3, 2 × skip_connect (identity)
  const sepConv3 = (c: number): number => 2 * (9 * c + c * c + bn(c)); // twice: depthwise 3×3, pointwise 1×1, BN
  const dilConv3 = (c: number): number => 9 * c + c * c + bn(c);
  const normalOps = (c: number): number => 5 * sepConv3(c) + dilConv3(c);
  // reduce cell of DARTS_V2: 5 × max_pool_3x3 and 3 × skip_connect, all skips from node 2 (stride 1: identity)
  const reduceOps = (): number => 0;
  // preprocess0: ReLUConvBN 1×1 (Cpp→C) or FactorizedReduce (two 1×1 Cpp→C/2 + BN(C)): both Cpp·C + 2C
  const preprocess = (cpp: number, cp: number, c: number): number => cpp * c + bn(c) + cp * c + bn(c);
  const stemC = 3 * C0;
  let n = 3 * stemC * 9 + bn(stemC); // stem conv 3×3 (3 → 3C) + BN
  let cpp = stemC;
  let cp = stemC;
  let c = C0;
  let auxIn = 0;
  for (let i = 0; i < layers; i++) {
    const reduction = i === Math.floor(layers / 3) || i === Math.floor((2 * layers) / 3);
    if (reduction) c *= 2;
    n += preprocess(cpp, cp, c) + (reduction ? reduceOps() : normalOps(c));
    cpp = cp;
    cp = 4 * c; // concat of the 4 intermediate nodes
    if (i === Math.floor((2 * layers) / 3)) auxIn = cp;
  }
  n += cp * classes + classes; // classifier
  // auxiliary head: conv 1×1 auxIn→128 + BN, conv 2×2 128→768 + BN, Linear 768→classes
  const aux = auxIn * 128 + bn(128) + 128 * 768 * 4 + bn(768) + 768 * classes + classes;
  return { net: n, aux };
}

test('DARTS_V2 20/36 on CIFAR-10: 3,349,342 parameters (3,825,768 with the auxiliary head), by hand and built', () => {
  const h = handCount(20, 36, 10);
  assert.equal(h.net, 3_349_342);
  assert.equal(h.aux, 476_426);
  const net = new EvalNetwork({ genotype: getPublishedGenotype('DARTS_V2'), C: 36, layers: 20, numClasses: 10, auxiliary: true });
  try {
    assert.equal(net.numParametersWithoutAuxiliary(), h.net);
    assert.equal(net.numParameters(), h.net + h.aux);
  } finally {
    net.dispose();
  }
  // the small setting of the C100/SVHN benchmarks
  const s = handCount(8, 16, 100);
  const small = new EvalNetwork({ genotype: getPublishedGenotype('DARTS_V2'), C: 16, layers: 8, numClasses: 100, auxiliary: true });
  try {
    assert.equal(small.numParametersWithoutAuxiliary(), s.net);
    assert.equal(small.numParameters(), s.net + s.aux);
  } finally {
    small.dispose();
  }
});

test('rdarts info --genotype DARTS_V2 --dataset cifar10 --layers 20 --channels 36 --json', { timeout: 60_000 }, async () => {
  const r = await cli(['info', '--genotype', 'DARTS_V2', '--dataset', 'cifar10', '--layers', '20', '--channels', '36', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.parameters, 3_349_342);
  assert.equal(j.parametersWithAux, 3_825_768);
});
