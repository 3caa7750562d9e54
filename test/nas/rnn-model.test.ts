import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, liveTensors, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import {
  RNN_DARTS_V2,
  RNN_PRIMITIVES,
  RnnEvalModel,
  RnnSearchModel,
  activationPenalty,
  rnnParameterCount,
  type RnnGenotype,
  type RnnOpName,
} from '../../src/nas/rnn/index.js';

pinTestThreads();

test('search model: α is a [36, 5] leaf with requiresGrad, outside the weights; DARTS keys; parameter count by hand', () => {
  manualSeed(1);
  const m = new RnnSearchModel({ vocabSize: 20, hiddenSize: 6 });
  const [a] = m.archParameters();
  assert.deepEqual(a!.shape, [36, 5]);
  assert.ok(a!.isLeaf && a!.requiresGrad);
  assert.ok(!m.weightParameters().includes(a!));
  const absMax = Math.max(...a!.toNumbers().map(Math.abs));
  assert.ok(absMax > 0 && absMax < 1e-2, `α starts as 1e-3·N(0,1), max |α| = ${absMax}`);
  // by hand: embedding 20·6 (tied with the decoder), decoder bias 20, W0 (6+6)×12, 8 × W_i 6×12
  assert.equal(m.numParameters(), 20 * 6 + 20 + 12 * 12 + 8 * 6 * 12);
  assert.equal(m.numParameters(), 860);
  assert.equal(rnnParameterCount(20, 6, 8).total, 860);
  assert.deepEqual(
    [...m.stateDict().keys()],
    ['encoder.weight', 'rnns.0._W0', ...Array.from({ length: 8 }, (_, i) => `rnns.0._Ws.${i}`), 'decoder.bias', 'rnns.0.bn.running_mean', 'rnns.0.bn.running_var', 'rnns.0.bn.num_batches_tracked'],
  );
  const darts = m.dartsStateDict();
  assert.ok(darts.get('decoder.weight') === darts.get('encoder.weight'), 'the tied decoder weight is the embedding');
  assert.equal(m.numArchParameters(), 180);
  m.dispose();
});

test('parameter counts at the DARTS sizes: search model (300, PTB) and DARTS_V2 evaluation model (850, PTB) ≈ 23 M', () => {
  // DARTS_V2 at 850 units, vocabulary 10000: 10000·850 + 10000 + 1700·1700 + 8·850·1700
  const evalByHand = 8_500_000 + 10_000 + 2_890_000 + 11_560_000;
  assert.equal(evalByHand, 22_960_000);
  assert.equal(rnnParameterCount(10_000, 850, 8).total, evalByHand);
  manualSeed(0);
  const ev = new RnnEvalModel({ vocabSize: 10_000, genotype: RNN_DARTS_V2 });
  assert.equal(ev.hiddenSize, 850);
  assert.equal(ev.numParameters(), evalByHand);
  ev.dispose();
  // search model, 300 units: 10000·300 + 10000 + 600·600 + 8·300·600
  const searchByHand = 3_000_000 + 10_000 + 360_000 + 1_440_000;
  const sm = new RnnSearchModel({ vocabSize: 10_000 });
  assert.equal(sm.hiddenSize, 300);
  assert.equal(sm.numParameters(), searchByHand);
  assert.equal(sm.numParameters(), 4_810_000);
  sm.dispose();
});

// ----------------------------------------------------------------------------- an independent JS reference

type Mat = number[][];
const matmul = (x: number[], W: Mat): number[] => W[0]!.map((_, c) => x.reduce((s, xi, r) => s + xi * W[r]![c]!, 0));
const sig = (v: number) => 1 / (1 + Math.exp(-v));
const act = (op: RnnOpName, v: number): number => (op === 'tanh' ? Math.tanh(v) : op === 'relu' ? Math.max(0, v) : op === 'sigmoid' ? sig(v) : v);

function rows(t: Tensor): Mat {
  const [r, c] = t.shape as [number, number];
  const flat = t.toNumbers();
  return Array.from({ length: r }, (_, i) => flat.slice(i * c, (i + 1) * c));
}

interface RefWeights {
  emb: Mat;
  bias: number[];
  W0: Mat;
  Ws: Mat[];
}

function refWeights(m: RnnSearchModel | RnnEvalModel): RefWeights {
  const sd = m.stateDict();
  const steps = [...sd.keys()].filter((k) => k.startsWith('rnns.0._Ws.')).length;
  return {
    emb: rows(sd.get('encoder.weight')!),
    bias: sd.get('decoder.bias')!.toNumbers(),
    W0: rows(sd.get('rnns.0._W0')!),
    Ws: Array.from({ length: steps }, (_, i) => rows(sd.get(`rnns.0._Ws.${i}`)!)),
  };
}

/** batch norm over the batch (biased variance, eps 1e-5), per feature */
function bnBatch(xs: Mat): Mat {
  const B = xs.length;
  const H = xs[0]!.length;
  const mean = Array.from({ length: H }, (_, h) => xs.reduce((s, x) => s + x[h]!, 0) / B);
  const vr = Array.from({ length: H }, (_, h) => xs.reduce((s, x) => s + (x[h]! - mean[h]!) ** 2, 0) / B);
  return xs.map((x) => x.map((v, h) => (v - mean[h]!) / Math.sqrt(vr[h]! + 1e-5)));
}

/** s0 of DARTS' _compute_init_state for one sample */
function initState(w: RefWeights, x: number[], h: number[]): number[] {
  const H = h.length;
  const ch = matmul([...x, ...h], w.W0);
  return h.map((hv, k) => hv + sig(ch[k]!) * (Math.tanh(ch[H + k]!) - hv));
}

/** log-softmax of the tied decoder */
function decode(w: RefWeights, o: number[]): number[] {
  const logits = w.emb.map((e, v) => e.reduce((s, ev, k) => s + ev * o[k]!, 0) + w.bias[v]!);
  const mx = Math.max(...logits);
  const lse = mx + Math.log(logits.reduce((s, l) => s + Math.exp(l - mx), 0));
  return logits.map((l) => l - lse);
}

/** DARTS DARTSCell + RNNModel, eval mode, from zero hidden: log-probs [T][B][V] */
function refEvalForward(w: RefWeights, g: RnnGenotype, tokens: number[][]): number[][][] {
  const B = tokens[0]!.length;
  const H = w.W0[0]!.length / 2;
  let hs: Mat = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  return tokens.map((row) => {
    hs = row.map((tok, b) => {
      const states = [initState(w, w.emb[tok]!, hs[b]!)];
      g.recurrent.forEach(([op, pred], i) => {
        const sp = states[pred]!;
        const ch = matmul(sp, w.Ws[i]!);
        states.push(sp.map((v, k) => v + sig(ch[k]!) * (act(op, ch[H + k]!) - v)));
      });
      return Array.from({ length: H }, (_, k) => g.concat.reduce((s, c) => s + states[c]![k]!, 0) / g.concat.length);
    });
    return hs.map((o) => decode(w, o));
  });
}

/** DARTS DARTSCellSearch + RNNModelSearch in train mode with every dropout 0 (batch-statistics BN): log-probs [T][B][V] */
function refSearchForward(w: RefWeights, probs: Mat, tokens: number[][]): number[][][] {
  const B = tokens[0]!.length;
  const H = w.W0[0]!.length / 2;
  const steps = w.Ws.length;
  let hs: Mat = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  return tokens.map((row) => {
    const states: Mat[] = [bnBatch(row.map((tok, b) => initState(w, w.emb[tok]!, hs[b]!)))]; // states[j][b][k]
    let offset = 0;
    for (let i = 0; i < steps; i++) {
      const s: Mat = Array.from({ length: B }, () => new Array<number>(H).fill(0));
      for (let j = 0; j <= i; j++) {
        for (let b = 0; b < B; b++) {
          const sp = states[j]![b]!;
          const ch = matmul(sp, w.Ws[i]!);
          RNN_PRIMITIVES.forEach((op, k) => {
            if (op === 'none') return;
            const p = probs[offset + j]![k]!;
            for (let q = 0; q < H; q++) s[b]![q]! += p * (sp[q]! + sig(ch[q]!) * (act(op, ch[H + q]!) - sp[q]!));
          });
        }
      }
      states.push(bnBatch(s));
      offset += i + 1;
    }
    hs = Array.from({ length: B }, (_, b) => Array.from({ length: H }, (_, q) => states.slice(1).reduce((acc, st) => acc + st[b]![q]!, 0) / steps));
    return hs.map((o) => decode(w, o));
  });
}

function maxAbsDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

const TOKENS = [
  [1, 4, 0],
  [3, 3, 6],
  [6, 2, 5],
  [0, 5, 1],
];

test('evaluation model (eval mode) equals a plain-JS transcription of DARTS DARTSCell/RNNModel, in float64', () => {
  manualSeed(3);
  const g: RnnGenotype = { recurrent: [['sigmoid', 0], ['relu', 1], ['tanh', 1], ['identity', 2]], concat: [2, 3, 4] };
  const m = new RnnEvalModel({ vocabSize: 7, hiddenSize: 4, genotype: g }).to('float64');
  noGrad(() => m.parameters().forEach((p) => p.mul_(10))); // U(±0.4): every op away from its linear range
  m.eval();
  const ref = refEvalForward(refWeights(m), g, TOKENS).flat(2);
  const got = tidy(() => {
    const input = tensor(TOKENS, { dtype: 'int64' });
    const out = m.forward(input, m.initHidden(3));
    assert.deepEqual(out.logProbs.shape, [4, 3, 7]);
    assert.deepEqual(out.hidden.shape, [1, 3, 4]);
    const sums = out.logProbs.exp().sum(-1).toNumbers();
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-12);
    return out.logProbs.toNumbers();
  });
  const d = maxAbsDiff(got, ref);
  assert.ok(d < 1e-12, `max |difference| ${d}`);
  m.dispose();
});

test('search model (train mode, batch-statistics BN, dropouts 0) equals a plain-JS transcription of DARTSCellSearch, in float64', () => {
  manualSeed(4);
  const m = new RnnSearchModel({ vocabSize: 7, hiddenSize: 3, dropout: 0, dropouth: 0, dropoutx: 0, dropouti: 0, dropoute: 0 }).to('float64');
  noGrad(() => m.weightParameters().forEach((p) => p.mul_(10)));
  m.setAlpha(Array.from({ length: 36 }, (_, e) => [0, 1, 2, 3, 4].map((k) => Math.sin(3 * e + k))));
  const probs = rows(tidy(() => m.archWeights()));
  const ref = refSearchForward(refWeights(m), probs, TOKENS).flat(2);
  m.train();
  const got = tidy(() => m.forward(tensor(TOKENS, { dtype: 'int64' }), m.initHidden(3)).logProbs.toNumbers());
  const d = maxAbsDiff(got, ref);
  assert.ok(d < 1e-10, `max |difference| ${d}`);
  m.dispose();
});

test('dropout masks: eval mode is deterministic; train mode draws masks from the seeded generator (same seed, same loss)', () => {
  manualSeed(5);
  const m = new RnnSearchModel({ vocabSize: 7, hiddenSize: 4, dropoute: 0.3 }).to('float64');
  const input = tensor(TOKENS, { dtype: 'int64' });
  const target = tensor([...TOKENS.slice(1), [2, 2, 2]], { dtype: 'int64' });
  const lossAt = (seed: number | null) =>
    tidy(() => {
      if (seed !== null) manualSeed(seed);
      return m.loss(input, target, m.initHidden(3)).loss.item();
    });
  m.eval();
  assert.equal(lossAt(1), lossAt(2));
  // a train-mode loss and its gradients inside a scope leave no tensor behind
  const live = liveTensors();
  m.train();
  tidy(() => {
    grad(m.loss(input, target, m.initHidden(3)).loss, [...m.weightParameters(), ...m.archParameters()]);
  });
  m.eval();
  assert.equal(liveTensors(), live);
  m.train();
  const a = lossAt(7);
  assert.equal(lossAt(7), a);
  assert.notEqual(lossAt(8), a, 'another seed, other masks');
  // the dropped output differs from the raw one in train mode, not in eval mode
  tidy(() => {
    manualSeed(9);
    const tr = m.forward(input, m.initHidden(3));
    assert.ok(tr.output.sub(tr.rawOutput).abs().max().item() > 0);
    m.eval();
    const ev = m.forward(input, m.initHidden(3));
    assert.equal(ev.output.sub(ev.rawOutput).abs().max().item(), 0);
    // TAR by hand on the raw outputs: beta·mean((h_{t+1} − h_t)²)
    const raw = ev.rawOutput.toNumbers();
    const per = 3 * 4;
    let sq = 0;
    for (let t = 0; t < 3; t++) for (let q = 0; q < per; q++) sq += (raw[(t + 1) * per + q]! - raw[t * per + q]!) ** 2;
    const tar = activationPenalty(ev.rawOutput, ev.output, { alpha: 0, beta: 1e-3 })!.item();
    assert.ok(Math.abs(tar - (1e-3 * sq) / (3 * per)) < 1e-15);
    assert.equal(activationPenalty(ev.rawOutput, ev.output, { alpha: 0, beta: 0 }), null);
  });
  m.dispose();
});

test('state: dartsStateDict round trip into a fresh model; checkpoint tensors carry α as `weights`', () => {
  manualSeed(6);
  const a = new RnnSearchModel({ vocabSize: 9, hiddenSize: 4 });
  a.setAlpha(Array.from({ length: 36 }, (_, e) => [e, 0, 1, 2, -e].map((v) => v / 10)));
  manualSeed(7);
  const b = new RnnSearchModel({ vocabSize: 9, hiddenSize: 4 });
  b.loadCheckpointTensors(a.checkpointTensors());
  assert.deepEqual(b.alphaValues(), a.alphaValues());
  for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toNumbers(), t.toNumbers(), k);
  const c = new RnnSearchModel({ vocabSize: 9, hiddenSize: 4 });
  c.loadDartsStateDict(a.dartsStateDict());
  assert.deepEqual(c.encoder.weight.toNumbers(), a.encoder.weight.toNumbers());
  assert.throws(() => c.loadStateDict(new Map([['encoder.weight', a.encoder.weight]])), /missing keys \[rnns\.0\._W0/);
  assert.deepEqual(b.genotype(), a.genotype());
  for (const m of [a, b, c]) m.dispose();
});
