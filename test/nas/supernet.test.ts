import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { F, SGD, grad, liveTensors, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { pinTestThreads } from '../helpers/threads.js';
import { DATASET_SHAPES } from '../../src/data/dataset.js';
import {
  MixedOp,
  Network,
  countSearchParameters,
  deriveGenotype,
  dropPath,
  getSpace,
  listSpaces,
  searchOp,
  spaceFromObject,
  type SearchSpace,
} from '../../src/nas/index.js';

pinTestThreads();

const PAPER = { C: 16, layers: 8, numClasses: 10 };
const TINY = { C: 2, layers: 4, numClasses: 10 };

function labels(...ys: number[]): Tensor {
  return tensor(ys, { dtype: 'int64' });
}

/** A user space whose normal edges have 1, 2 or 3 ops (ragged α). */
function raggedSpace(): SearchSpace {
  const normal = Array.from({ length: 14 }, (_, e) =>
    e % 3 === 0 ? ['skip_connect'] : e % 3 === 1 ? ['skip_connect', 'sep_conv_3x3'] : ['none', 'avg_pool_3x3', 'dil_conv_3x3'],
  );
  return spaceFromObject({ name: 'ragged', normal, reduce: ['max_pool_3x3', 'skip_connect'] });
}

test('built parameter count equals the analytic count for every shipped space (8 cells, C=16, CIFAR-10); S1 = 405,146', () => {
  const want: Record<string, number> = { darts: 1_930_618, s1: 405_146, s2: 665_466, s3: 665_466, s4: 624_506 };
  for (const name of listSpaces()) {
    const space = getSpace(name);
    const net = new Network({ space, ...PAPER });
    assert.equal(net.numParameters(), countSearchParameters(space, PAPER), name);
    assert.equal(net.numParameters(), want[name], name);
    net.dispose();
  }
  const fm = { ...PAPER, inChannels: 1 };
  const net = new Network({ space: getSpace('s3'), ...fm });
  assert.equal(net.numParameters(), countSearchParameters(getSpace('s3'), fm));
  net.dispose();
  const rag = raggedSpace();
  const rnet = new Network({ space: rag, ...PAPER, numClasses: 100 });
  assert.equal(rnet.numParameters(), countSearchParameters(rag, { ...PAPER, numClasses: 100 }));
  rnet.dispose();
});

test('α is kept apart from the weights: shapes, counts, init scale', () => {
  const counts: Record<string, number> = { darts: 224, s1: 56, s2: 56, s3: 84, s4: 56 };
  for (const name of listSpaces()) {
    const net = new Network({ space: getSpace(name), ...TINY });
    const arch = net.archParameters();
    assert.equal(arch.length, 2);
    const ops = getSpace(name).normal[0]!.length;
    for (const a of arch) {
      assert.deepEqual(a.shape, [14, ops]);
      assert.ok(a.requiresGrad && a.isLeaf);
      const m = a.abs().max().item();
      assert.ok(m > 0 && m < 1e-2, `1e-3·randn init (${m})`);
    }
    const weights = new Set(net.weightParameters());
    assert.ok(!arch.some((a) => weights.has(a)), 'α not among weightParameters');
    assert.ok(![...net.namedParameters()].some(([k]) => /alpha/i.test(k)));
    assert.equal(net.numArchParameters(), counts[name]);
    assert.equal(arch.reduce((s, a) => s + a.numel(), 0), counts[name]);
    assert.equal(net.flatAlphaIndex().length, counts[name]);
    net.dispose();
  }
});

test('forward shapes: each space on a tiny net (3-channel 16×16), 1-channel 28×28, odd 18×18, and the cell channel plan', () => {
  manualSeed(1);
  for (const name of listSpaces()) {
    const net = new Network({ space: getSpace(name), ...TINY });
    tidy(() => {
      const y = net.forward(randn([2, 3, 16, 16]));
      assert.deepEqual(y.shape, [2, 10], name);
      assert.ok(y.isfinite().all().item() === 1);
    });
    net.dispose();
  }
  // reductions at ⌊4/3⌋ = 1 and ⌊8/3⌋ = 2; cell 2 reduces after a reduction; cell 3 preprocesses with FactorizedReduce
  const net = new Network({ space: getSpace('darts'), C: 2, layers: 4, numClasses: 10, inChannels: 1 });
  assert.deepEqual(net.cells.items.map((c) => [c.reduction, c.reductionPrev, c.C]), [
    [false, false, 2],
    [true, false, 4],
    [true, true, 8],
    [false, true, 8],
  ]);
  assert.equal(net.classifier.inFeatures, 32);
  tidy(() => {
    assert.deepEqual(net.forward(randn([3, 1, 28, 28])).shape, [3, 10]);
    assert.throws(() => net.forward(randn([3, 3, 28, 28])), /expected input \[N, 1, H, W\]/);
  });
  net.dispose();
  const odd = new Network({ space: getSpace('s3'), ...TINY });
  tidy(() => assert.deepEqual(odd.forward(randn([2, 3, 18, 18])).shape, [2, 10]));
  odd.dispose();
  assert.deepEqual(DATASET_SHAPES['fashion-mnist'], { numClasses: 10, inChannels: 1, size: 28 });
  assert.equal(DATASET_SHAPES.cifar100.numClasses, 100);
});

test('ragged space: padded α entries get softmax weight 0 and zero gradient; flat order and vector round trip', () => {
  manualSeed(2);
  const space = raggedSpace();
  const net = new Network({ space, ...TINY });
  assert.deepEqual(net.alphaNormal.shape, [14, 3]);
  assert.deepEqual(net.alphaReduce.shape, [14, 2]);
  const nNormal = 5 * 1 + 5 * 2 + 4 * 3; // edges 0,3,…,12 have 1 op; 1,4,…,13 two; 2,5,8,11 three
  assert.equal(net.numArchParameters(), nNormal + 28);
  const vals = net.alphaValues();
  assert.deepEqual(vals.normal.map((r) => r.length), space.normal.map((e) => e.length));
  // padded entries are initialised to 0
  const raw = net.alphaNormal.toNumbers();
  assert.ok(raw[0 * 3 + 1] === 0 && raw[1 * 3 + 2] === 0);
  tidy(() => {
    const w = net.archWeights();
    const wn = w.normal.toNumbers();
    assert.equal(wn[0], 1); // single-op edge
    assert.ok(wn[1] === 0 && wn[2] === 0 && wn[1 * 3 + 2] === 0);
    assert.ok(Math.abs(wn[1 * 3]! + wn[1 * 3 + 1]! - 1) < 1e-6);
    const sm = net.softmaxValues();
    assert.ok(Math.abs(sm.normal[1]![0]! - wn[3]!) < 1e-6);
    const loss = net.loss(randn([2, 3, 8, 8]), labels(1, 2));
    const [ga] = grad(loss, [net.alphaNormal]);
    const g = ga!.toNumbers();
    space.normal.forEach((ops, e) => {
      for (let k = ops.length; k < 3; k++) assert.ok(g[e * 3 + k] === 0, `padding grad edge ${e} col ${k}: ${g[e * 3 + k]}`);
    });
    assert.ok(g.some((v) => v !== 0));
    // flat index: normal first, edge-major, valid entries only
    const idx = net.flatAlphaIndex();
    assert.deepEqual(idx.slice(0, 4).map((x) => [x.cell, x.edge, x.op, x.name]), [
      ['normal', 0, 0, 'skip_connect'],
      ['normal', 1, 0, 'skip_connect'],
      ['normal', 1, 1, 'sep_conv_3x3'],
      ['normal', 2, 0, 'none'],
    ]);
    assert.deepEqual([idx[nNormal]!.cell, idx[nNormal]!.edge, idx[nNormal]!.op], ['reduce', 0, 0]);
    const v = net.archVector(net.archParameters());
    const flatVals = [...vals.normal.flat(), ...vals.reduce.flat()];
    assert.deepEqual(v.toNumbers(), Float32Array.from(flatVals).reduce<number[]>((a, x) => (a.push(x), a), []));
    const [bn, br] = net.archFromVector(v);
    assert.deepEqual(bn.toNumbers(), net.alphaNormal.toNumbers());
    assert.deepEqual(br.toNumbers(), net.alphaReduce.toNumbers());
  });
  net.setAlphas({ normal: space.normal.map((ops) => ops.map((_, k) => k)), reduce: space.reduce.map(() => [5, -5]) });
  assert.deepEqual(net.alphaValues().normal[2], [0, 1, 2]);
  assert.ok(net.alphaNormal.toNumbers()[0 * 3 + 2] === 0, 'padding stays 0');
  const g = net.genotype();
  assert.deepEqual(g.reduce.map(([op]) => op), Array(8).fill('max_pool_3x3'));
  assert.deepEqual(g, deriveGenotype(net.alphaValues().normal, net.alphaValues().reduce, space));
  assert.throws(() => net.setAlphas({ normal: [[1]], reduce: [] }), /rows/);
  net.dispose();
});

test('one-hot weights select one op: MixedOp output equals that op alone; all-none S3 cells leave only the classifier bias', () => {
  manualSeed(4);
  const names = ['none', 'max_pool_3x3', 'skip_connect', 'sep_conv_3x3'] as const;
  const mixed = new MixedOp([...names], 4, 1);
  tidy(() => {
    const x = randn([2, 4, 8, 8]);
    for (let k = 0; k < names.length; k++) {
      const w = tensor(names.map((_, i) => (i === k ? 1 : 0)));
      const got = mixed.forward(x, w);
      const own = mixed.ops.items[k]!.forward(x);
      assert.ok(got.sub(own).abs().max().item() < 1e-6, names[k]);
    }
    const soft = F.softmax(randn([4]), 0);
    const sw = soft.toNumbers();
    const want = mixed.ops.items.map((op, i) => op.forward(x).mul(sw[i]!)).reduce((a, b) => a.add(b));
    assert.ok(mixed.forward(x, soft).sub(want).abs().max().item() < 1e-5);
  });
  mixed.dispose();

  const space = getSpace('s3');
  const net = new Network({ space, ...TINY });
  tidy(() => {
    const none = net.weightsFromValues({ normal: space.normal.map(() => [1, 0, 0]), reduce: space.reduce.map(() => [1, 0, 0]) });
    const y = net.forward(randn([3, 3, 8, 8]), { weights: none });
    const bias = net.stateDict().get('classifier.bias')!.toNumbers();
    const rows = y.toNumbers();
    for (let i = 0; i < 3; i++) for (let c = 0; c < 10; c++) assert.ok(Math.abs(rows[i * 10 + c]! - bias[c]!) < 1e-6);
    // a genotype's one-hot weights are accepted and change the output
    const g = net.genotype();
    const x = randn([2, 3, 8, 8]);
    net.eval();
    const a = net.forward(x, { weights: net.discreteWeights(g) });
    const b = net.forward(x);
    assert.deepEqual(a.shape, [2, 10]);
    assert.ok(a.sub(b).abs().max().item() > 0);
    net.train();
    assert.throws(() => net.forward(x, { weights: { normal: randn([14, 2]), reduce: randn([14, 3]) } }), /expected \[14, 3\]/);
  });
  net.dispose();
});

test('drop path: per-sample zero or 1/keep-scaled in train mode; eval mode or p = 0 leaves the output unchanged', () => {
  manualSeed(5);
  tidy(() => {
    const x = randn([32, 2, 3, 3]);
    const y = dropPath(x, 0.4);
    const xs = x.toNumbers();
    const ys = y.toNumbers();
    let dropped = 0;
    let kept = 0;
    for (let i = 0; i < 32; i++) {
      const sl = (a: number[]) => a.slice(i * 18, (i + 1) * 18);
      if (sl(ys).every((v) => v === 0)) dropped++;
      else {
        sl(ys).forEach((v, j) => assert.ok(Math.abs(v - sl(xs)[j]! / 0.6) < 1e-5));
        kept++;
      }
    }
    assert.ok(dropped > 0 && kept > 0, `dropped ${dropped}, kept ${kept}`);
    assert.equal(dropPath(x, 0), x);
  });
  const net = new Network({ space: getSpace('s2'), ...TINY });
  tidy(() => {
    const x = randn([4, 3, 8, 8]);
    const base = net.forward(x).toNumbers();
    assert.deepEqual(net.forward(x).toNumbers(), base, 'deterministic without drop path (train-mode BN)');
    net.dropPathProb = 0.5;
    const dropped = net.forward(x).toNumbers();
    assert.ok(dropped.some((v, i) => Math.abs(v - base[i]!) > 1e-4), 'drop path changes the train-mode output');
    net.eval();
    net.dropPathProb = 0;
    const e0 = net.forward(x).toNumbers();
    net.dropPathProb = 0.5;
    assert.deepEqual(net.forward(x).toNumbers(), e0, 'no drop path in eval mode');
  });
  net.dispose();
});

test('gradients reach α and the weights; double backward gives a Hessian-vector product that matches finite differences (float64)', () => {
  manualSeed(6);
  const net = new Network({ space: getSpace('s2'), C: 2, layers: 3, numClasses: 4 }).to('float64');
  assert.equal(net.alphaNormal.dtype, 'float64');
  assert.ok(net.alphaNormal.requiresGrad);
  net.setAlphas({ normal: getSpace('s2').normal.map((_, e) => [0.3 * Math.sin(e), -0.2]), reduce: getSpace('s2').reduce.map((_, e) => [0.1 * e, 0.4]) });
  tidy(() => {
    const x = randn([4, 3, 8, 8], { dtype: 'float64' });
    const y = labels(0, 1, 2, 3);
    const alphas = net.archParameters();
    const loss = net.loss(x, y);
    const gs = grad(loss, [...alphas, ...net.weightParameters()], { createGraph: true });
    assert.ok(gs.every((g) => g !== null));
    assert.ok(gs[0]!.abs().sum().item() > 0 && gs[1]!.abs().sum().item() > 0, 'non-zero dL/dα');
    const v = [randn([14, 2], { dtype: 'float64' }), randn([14, 2], { dtype: 'float64' })];
    const gv = gs[0]!.mul(v[0]!).sum().add(gs[1]!.mul(v[1]!).sum());
    const hv = grad(gv, alphas);
    assert.ok(hv.every((h) => h !== null && h.isfinite().all().item() === 1));
    const hvFlat = net.archVector(hv as Tensor[]).toNumbers();
    assert.ok(hvFlat.some((h) => Math.abs(h) > 1e-8), 'non-zero Hv');
    // central finite differences of the gradient along v
    const eps = 1e-5;
    const gradAt = (sign: number): number[] =>
      tidy(() => {
        noGrad(() => alphas.forEach((a, i) => a.add_(v[i]!, sign * eps)));
        const g = grad(net.loss(x, y), alphas);
        noGrad(() => alphas.forEach((a, i) => a.sub_(v[i]!, sign * eps)));
        return net.archVector(g as Tensor[]).toNumbers();
      });
    const gp = gradAt(1);
    const gm = gradAt(-1);
    const fd = gp.map((p, i) => (p - gm[i]!) / (2 * eps));
    const scale = Math.max(...hvFlat.map(Math.abs));
    const err = Math.max(...fd.map((f, i) => Math.abs(f - hvFlat[i]!)));
    assert.ok(err < 1e-5 * Math.max(1, scale), `Hv vs finite differences: max error ${err} (scale ${scale})`);
  });
  net.dispose();
});

test('same manualSeed → same network and logits, noise op included (S4); fresh noise on the next call', () => {
  const run = (): { logits: number[]; again: number[] } => {
    manualSeed(7);
    const net = new Network({ space: getSpace('s4'), ...TINY });
    net.dropPathProb = 0.2;
    const out = tidy(() => {
      const x = randn([2, 3, 8, 8]);
      return { logits: net.forward(x).toNumbers(), again: net.forward(x).toNumbers() };
    });
    net.dispose();
    return out;
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.logits, b.logits);
  assert.deepEqual(a.again, b.again);
  assert.ok(a.logits.some((v, i) => v !== a.again[i]), 'noise and drop path draw afresh each forward');
});

test('a training step inside tidy leaves no tensors behind (α step and weight step)', () => {
  manualSeed(8);
  const net = new Network({ space: getSpace('s3'), ...TINY });
  net.dropPathProb = 0.1;
  const wOpt = new SGD(net.weightParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 3e-4 });
  const x = randn([2, 3, 8, 8]);
  const y = labels(3, 7);
  const step = () =>
    tidy(() => {
      const la = net.loss(x, y);
      const ga = grad(la, net.archParameters());
      noGrad(() => net.archParameters().forEach((a, i) => a.sub_(ga[i]!, 1e-3)));
      net.zeroGrad();
      net.loss(x, y).backward();
      wOpt.step();
      net.zeroGrad();
    });
  step(); // creates the momentum buffers
  const before = liveTensors();
  const alpha0 = net.alphaNormal.toNumbers();
  step();
  step();
  assert.equal(liveTensors(), before);
  assert.notDeepEqual(net.alphaNormal.toNumbers(), alpha0, 'the α step changed α');
  x.dispose();
  y.dispose();
  net.dispose();
});

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, '..', '..', 'src', 'cli', 'main.js');
function rdarts(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('rdarts info: --json for S1/CIFAR-10, text for DARTS, Fashion-MNIST channels, space files, unknown space', () => {
  const r = rdarts('info', '--space', 's1', '--dataset', 'cifar10', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, unknown>;
  assert.equal(j.parameters, 405_146);
  assert.deepEqual(j.alphaShape, [2, 14, 2]);
  assert.deepEqual(Object.keys(j).slice(0, 2), ['parameters', 'alphaShape']);
  assert.equal(j.analyticParameters, 405_146);
  assert.equal(j.ragged, false);

  const fm = JSON.parse(rdarts('info', '--space', 'S3', '--dataset', 'fashion-mnist', '--layers', '5', '--channels', '4', '--json').stdout) as Record<string, unknown>;
  assert.equal(fm.inChannels, 1);
  assert.equal(fm.parameters, countSearchParameters(getSpace('s3'), { C: 4, layers: 5, numClasses: 10, inChannels: 1 }));
  assert.deepEqual(fm.alphaShape, [2, 14, 3]);

  const text = rdarts('info', '--space', 'darts');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /1,930,618 \(analytic count 1,930,618/);
  assert.match(text.stdout, /2 × 14 × 8 = 224/);

  const bad = rdarts('info', '--space', 'nope');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown search space 'nope'; known spaces: darts, s1, s2, s3, s4/);

  const tmp = makeTempDir('info');
  try {
    const file = join(tmp, 'space.json');
    const rag = raggedSpace();
    writeFileSync(file, JSON.stringify({ name: rag.name, normal: rag.normal, reduce: rag.reduce }));
    const rj = JSON.parse(rdarts('info', '--space-file', file, '--json').stdout) as Record<string, unknown>;
    assert.equal(rj.ragged, true);
    assert.equal(rj.archParameters, 27 + 28);
    assert.deepEqual(rj.alphaShape, [2, 14, 3]);
    assert.equal(rj.parameters, countSearchParameters(rag, PAPER));
    const rt = rdarts('info', '--space-file', file);
    assert.equal(rt.code, 0, rt.stderr);
    assert.match(rt.stdout, /55 entries; edges have different op counts/);
    assert.match(rt.stdout, /normal\s+27 entries, ops per edge \[1, 2, 3, 1/);
  } finally {
    removeDir(tmp);
  }
});

test('searchOp and MixedOp build the ops of the edge in order', () => {
  const m = new MixedOp(['max_pool_3x3', 'skip_connect'], 4, 2);
  assert.equal(m.ops.length, 2);
  assert.deepEqual([...m.stateDict().keys()].slice(0, 2), ['_ops.1.conv_1.weight', '_ops.1.conv_2.weight']);
  assert.ok([...m.stateDict().keys()].includes('_ops.0.1.running_mean'));
  assert.equal(searchOp('skip_connect', 4, 1).numParameters(), 0);
  m.dispose();
});
