import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, liveTensors, manualSeed, randn, tensor, tidy } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import {
  DARTS_V2,
  EvalNetwork,
  factorizedReduceParameters,
  getSpace,
  opParameters,
  reluConvBnParameters,
  type Genotype,
} from '../../src/nas/index.js';

pinTestThreads();

/** Hand count of the evaluation network (affine BN everywhere, pools without BN). */
function evalCount(g: Genotype, C: number, layers: number, numClasses: number, auxiliary: boolean, inChannels = 3): number {
  let n = inChannels * 3 * C * 9 + 2 * 3 * C;
  let cPP = 3 * C;
  let cP = 3 * C;
  let cCur = C;
  let prev = false;
  let cAux = 0;
  const red = new Set([Math.floor(layers / 3), Math.floor((2 * layers) / 3)]);
  for (let i = 0; i < layers; i++) {
    const r = red.has(i);
    if (r) cCur *= 2;
    n += (prev ? factorizedReduceParameters(cPP, cCur, true) : reluConvBnParameters(cPP, cCur, 1, true)) + reluConvBnParameters(cP, cCur, 1, true);
    for (const [op, j] of r ? g.reduce : g.normal) n += opParameters(op, cCur, r && j < 2 ? 2 : 1, true);
    prev = r;
    cPP = cP;
    cP = 4 * cCur;
    if (i === Math.floor((2 * layers) / 3)) cAux = cP;
  }
  n += cP * numClasses + numClasses;
  if (auxiliary) n += cAux * 128 + 2 * 128 + 128 * 768 * 4 + 2 * 768 + 768 * numClasses + numClasses;
  return n;
}

test('evaluation network: DARTS_V2, 20 cells, C=36, CIFAR-10 has 3,349,342 parameters without the auxiliary head (DARTS log)', () => {
  const net = new EvalNetwork({ genotype: DARTS_V2, C: 36, layers: 20, numClasses: 10, auxiliary: true });
  assert.equal(net.numParametersWithoutAuxiliary(), 3_349_342);
  assert.equal(net.numParameters(), evalCount(DARTS_V2, 36, 20, 10, true));
  assert.equal(net.auxiliaryCell, 13);
  net.dispose();
});

test('evaluation network forward: logits and auxiliary logits (train only), 8×8 and 7×7 auxiliary inputs, drop path spares Identity', () => {
  manualSeed(9);
  const net = new EvalNetwork({ genotype: DARTS_V2, C: 4, layers: 5, numClasses: 10, auxiliary: true });
  assert.equal(net.numParameters(), evalCount(DARTS_V2, 4, 5, 10, true));
  tidy(() => {
    const out = net.forward(randn([2, 3, 32, 32]));
    assert.deepEqual(out.logits.shape, [2, 10]);
    assert.deepEqual(out.auxLogits!.shape, [2, 10]);
    net.eval();
    const ev = net.forward(randn([2, 3, 32, 32]));
    assert.equal(ev.auxLogits, null);
    net.train();
  });
  const fm = new EvalNetwork({ genotype: DARTS_V2, C: 4, layers: 5, numClasses: 10, auxiliary: true, inChannels: 1 });
  tidy(() => {
    const out = fm.forward(randn([2, 1, 28, 28]));
    assert.deepEqual(out.auxLogits!.shape, [2, 10]);
  });
  fm.dispose();
  // a cell of two skip connections (Identity) per node is never dropped; one of convs is
  const skips: Genotype = {
    normal: Array.from({ length: 8 }, (_, i) => ['skip_connect', i % 2] as ['skip_connect', number]),
    normalConcat: [2, 3, 4, 5],
    reduce: DARTS_V2.reduce,
    reduceConcat: [2, 3, 4, 5],
  };
  const sk = new EvalNetwork({ genotype: skips, C: 4, layers: 1, numClasses: 10 }); // one cell: reduction at 0 → FactorizedReduce skips
  const id = new EvalNetwork({ genotype: skips, C: 4, layers: 4, numClasses: 10 });
  tidy(() => {
    const x = randn([8, 3, 8, 8]);
    const cell = id.cells.items[3]!; // normal cell after the reductions at 1 and 2
    assert.ok(!cell.reduction && cell.reductionPrev && cell.C === 16);
    const s0 = randn([8, 32, 8, 8]);
    const s1 = randn([8, 64, 4, 4]);
    cell.train();
    const a = cell.forward(s0, s1, 0).toNumbers();
    const b = cell.forward(s0, s1, 0.9).toNumbers();
    assert.deepEqual(a, b, 'Identity ops are not dropped');
    const r0 = sk.forward(x).logits.toNumbers();
    sk.dropPathProb = 0.9;
    const r1 = sk.forward(x).logits.toNumbers();
    assert.ok(r0.some((v, i) => Math.abs(v - r1[i]!) > 1e-5), 'non-Identity ops are dropped');
  });
  sk.dispose();
  id.dispose();
  const before = liveTensors();
  tidy(() => {
    const out = net.forward(randn([2, 3, 32, 32]));
    const y = tensor([1, 2], { dtype: 'int64' });
    F.crossEntropy(out.logits, y).add(F.crossEntropy(out.auxLogits!, y).mul(0.4)).backward();
  });
  net.zeroGrad();
  assert.equal(liveTensors(), before);
  assert.throws(() => new EvalNetwork({ genotype: DARTS_V2, C: 4, layers: 5, numClasses: 10, space: getSpace('s2') }), /max_pool_3x3|fit|not in/);
  net.dispose();
});
