/**
 * Training the recurrent evaluation model (src/search/rnn/eval-*.ts): the non-monotone trigger on
 * constructed validation sequences, PyTorch's ASGD rule by hand, a few epochs on tiny data
 * (the loss falls), a run that switches to ASGD, and kill-and-resume equality.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keep, liveTensors, noGrad, tensor, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { Asgd, nonMonotoneSwitch } from '../../src/search/rnn/eval-asgd.js';
import { resolveRnnEvalConfig, type RnnEvalConfig } from '../../src/search/rnn/eval-config.js';
import { RnnEvalTrainer, type RnnEvalData, type RnnEvalEvent } from '../../src/search/rnn/eval-trainer.js';
import type { CheckpointData, LogLengths, RunRecorder } from '../../src/search/recorder.js';
import { CheckpointError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { pythonJson } from '../helpers/python.js';

pinTestThreads();

test('non-monotone trigger (DARTS nonmono): switch when the loss exceeds the best of all but the last `nonmono` epochs', () => {
  // nonmono 2: needs more than 2 earlier losses; compares with min(history[0 .. len−3])
  assert.equal(nonMonotoneSwitch([5, 4], 9, 2), false, 'only 2 earlier epochs');
  assert.equal(nonMonotoneSwitch([5, 4, 3], 4.9, 2), false, '4.9 < min([5])');
  assert.equal(nonMonotoneSwitch([5, 4, 3], 5.1, 2), true, '5.1 > min([5])');
  assert.equal(nonMonotoneSwitch([5, 4, 3, 3.5], 4.5, 2), true, '4.5 > min([5, 4])');
  assert.equal(nonMonotoneSwitch([5, 4, 3, 3.5], 4, 2), false, 'equal is not worse');
  // a constructed sequence with DARTS' nonmono 5: the first epoch whose loss is above the best of all but the last five
  const seq = [6.0, 5.5, 5.2, 5.1, 5.05, 5.04, 5.06, 5.03, 5.2, 5.21, 5.3, 5.15, 5.22];
  let fired = -1;
  for (let e = 0; e < seq.length && fired < 0; e++) if (nonMonotoneSwitch(seq.slice(0, e), seq[e]!, 5)) fired = e;
  // e = 9: history[0..3] = [6, 5.5, 5.2, 5.1], min 5.1, 5.21 > 5.1 → switch (e = 8: min of [6, 5.5, 5.2] is 5.2, 5.2 is not above)
  assert.equal(fired, 9);
  assert.throws(() => nonMonotoneSwitch([1], 2, 0), /nonmono must be a positive integer/);
});

test("ASGD follows PyTorch's rule: η lags one step, ax is the mean of the iterates from the second step on, weight decay coupled", () => {
  const p = keep(noGrad(() => tensor(Float64Array.from([1, -2]), [2])));
  p.requiresGrad = true;
  const opt = new Asgd([p], { lr: 0.9, t0: 0, lambd: 0, alpha: 0.75, weightDecay: 0.1 });
  const w = [1, -2];
  const iterates: number[][] = [];
  const lrs = [0.5, 0.2, 0.4, 0.1];
  let eta = lrs[0]!; // the first step's η is the lr in force at that step (PyTorch creates the state then), not the 0.9 it was built with
  for (let s = 0; s < 4; s++) {
    opt.lr = lrs[s]!;
    const g = [0.3 * (s + 1), -0.1];
    p.grad = tensor(Float64Array.from(g), [2]);
    opt.step();
    for (let k = 0; k < 2; k++) w[k] = w[k]! - eta * (g[k]! + 0.1 * w[k]!);
    eta = lrs[s]!; // λ = 0: η after step s is the lr in force during step s
    iterates.push([...w]);
  }
  const got = p.toNumbers();
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(got[k]! - w[k]!) < 1e-14, `w[${k}] ${got[k]} vs ${w[k]}`);
  const mean = [0, 1].map((k) => (iterates[1]![k]! + iterates[2]![k]! + iterates[3]![k]!) / 3);
  const ax = opt.ax[0]!.toNumbers();
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(ax[k]! - mean[k]!) < 1e-14, `ax[${k}] ${ax[k]} vs mean of iterates 2..4 ${mean[k]}`);
  assert.equal(opt.steps, 4);
  opt.dispose();
  p.dispose();
});

const TORCH_ASGD = `
import json, sys, torch
inp = json.loads(sys.stdin.read())
p = torch.nn.Parameter(torch.tensor(inp['w0'], dtype=torch.float64))
opt = torch.optim.ASGD([p], lr=inp['lr0'], t0=0, lambd=0., weight_decay=inp['wd'])
for lr, g in zip(inp['lrs'], inp['grads']):
    opt.param_groups[0]['lr'] = lr
    p.grad = torch.tensor(g, dtype=torch.float64)
    opt.step()
print(json.dumps({'w': p.detach().tolist(), 'ax': opt.state[p]['ax'].tolist()}))
`;

test('ASGD equals torch.optim.ASGD(t0=0, lambd=0) of the local PyTorch, with the learning rate changed before every step as DARTS does', (t) => {
  const r = new Rng(12);
  const n = 5;
  const input = {
    w0: Array.from({ length: n }, () => r.normal()),
    lr0: 20,
    wd: 8e-7,
    lrs: Array.from({ length: 7 }, () => 20 * (0.2 + r.random())),
    grads: Array.from({ length: 7 }, () => Array.from({ length: n }, () => r.normal())),
  };
  const ref = pythonJson(TORCH_ASGD, input) as { w: number[]; ax: number[] } | null;
  if (!ref) {
    t.skip('python3 with torch is not installed');
    return;
  }
  const p = keep(noGrad(() => tensor(Float64Array.from(input.w0), [n])));
  p.requiresGrad = true;
  const opt = new Asgd([p], { lr: input.lr0, t0: 0, lambd: 0, weightDecay: input.wd });
  input.lrs.forEach((lr, s) => {
    opt.lr = lr;
    p.grad = tensor(Float64Array.from(input.grads[s]!), [n]);
    opt.step();
  });
  const w = p.toNumbers();
  const ax = opt.ax[0]!.toNumbers();
  // torch 1.13 keeps η and μ in float32 tensors (DARTS' PyTorch kept Python floats): agreement to
  // float32 rounding, 1e-6 (taking the first η from the constructor instead missed by 0.3 here)
  for (let k = 0; k < n; k++) {
    assert.ok(Math.abs(w[k]! - ref.w[k]!) <= 1e-6 * Math.max(1, Math.abs(ref.w[k]!)), `w[${k}] ${w[k]} vs torch ${ref.w[k]}`);
    assert.ok(Math.abs(ax[k]! - ref.ax[k]!) <= 1e-6 * Math.max(1, Math.abs(ref.ax[k]!)), `ax[${k}] ${ax[k]} vs torch ${ref.ax[k]}`);
  }
  opt.dispose();
  p.dispose();
});

/** A tiny corpus from a first-order Markov chain over `V` words (learnable: each word has two likely successors). */
function markov(n: number, V: number, seed: number, shift = 1): Int32Array {
  const r = new Rng(seed);
  const out = new Int32Array(n);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const u = r.random();
    w = u < 0.6 ? (w + shift) % V : u < 0.9 ? (w + 2 * shift) % V : r.int(V);
    out[i] = w;
  }
  return out;
}

function tinyConfig(over: Partial<RnnEvalConfig> = {}): RnnEvalConfig {
  return resolveRnnEvalConfig({
    genotypeSource: 'test',
    genotype: { recurrent: [['tanh', 0], ['relu', 1], ['sigmoid', 1], ['identity', 2]], concat: [1, 2, 3, 4] },
    emsize: 12,
    nhid: 12,
    batchSize: 4,
    evalBatchSize: 2,
    testBatchSize: 1,
    bptt: 8,
    dropout: 0.1,
    dropouth: 0.05,
    dropoutx: 0.1,
    dropouti: 0.05,
    dropoute: 0,
    epochs: 4,
    seed: 3,
    ...over,
  });
}

const V = 8;
const DATA: RnnEvalData = { vocab: { length: V }, train: markov(2400, V, 1), valid: markov(200, V, 2), test: markov(120, V, 3) };

test('a few epochs on tiny Markov data: training and validation loss fall, the test perplexity of the best model is reported', () => {
  const events: RnnEvalEvent[] = [];
  const live = liveTensors();
  // lr 5: DARTS' 20 (with clip 0.25) makes steps of norm up to ~8, too large for a 12-unit model (its validation loss jumps about)
  const tr = new RnnEvalTrainer(tinyConfig({ lr: 5, epochs: 3 }), DATA, { onEvent: (e) => events.push(e) });
  const res = tr.run();
  const epochs = events.filter((e): e is Extract<RnnEvalEvent, { type: 'epoch' }> => e.type === 'epoch');
  assert.equal(epochs.length, 3);
  assert.ok(epochs[2]!.train.loss < epochs[0]!.train.loss - 0.3, `train loss ${epochs.map((e) => e.train.loss.toFixed(3)).join(' → ')}`);
  assert.ok(epochs[2]!.valid.loss < epochs[0]!.valid.loss - 0.3, `valid loss ${epochs.map((e) => e.valid.loss.toFixed(3)).join(' → ')}`);
  // uniform guessing over 8 words is ppl 8 (loss 2.08); the chain's entropy rate is far lower
  assert.ok(res.valid!.ppl < 4, `best valid ppl ${res.valid!.ppl}`);
  assert.ok(res.test !== null && Number.isFinite(res.test.ppl) && res.test.ppl < 8);
  assert.equal(res.valid!.ppl, Math.exp(res.valid!.loss));
  assert.equal(res.parameters, V * 12 + V + 24 * 24 + 4 * 12 * 24);
  // lr events carry the base lr (5); each step's seq_len is DARTS' draw: ≥ 5, ≤ bptt + 20
  const steps = events.filter((e): e is Extract<RnnEvalEvent, { type: 'step' }> => e.type === 'step');
  assert.ok(steps.every((s) => s.lr === 5 && s.seqLen >= 5 && s.seqLen <= 28));
  assert.ok(new Set(steps.map((s) => s.seqLen)).size > 1, 'the BPTT length varies');
  tr.dispose();
  assert.equal(liveTensors(), live, 'no tensor outlives the trainer');
});

test('validation getting worse switches to ASGD (nonmono 1); validation then uses the averaged weights', () => {
  // train on the chain w → w+1, validate on the chain w → w−1: learning the one makes the other worse
  const data: RnnEvalData = { vocab: { length: V }, train: markov(800, V, 4, 1), valid: markov(200, V, 5, V - 1), test: null };
  const lines: Array<Record<string, unknown>> = [];
  const rec = new MemoryRecorder();
  const orig = rec.appendMetrics.bind(rec);
  rec.appendMetrics = (l) => {
    lines.push(l);
    orig(l);
  };
  const tr = new RnnEvalTrainer(tinyConfig({ nonmono: 1, epochs: 5, test: false, lr: 5 }), data, { recorder: rec });
  const res = tr.run();
  const vals = lines.filter((l) => l.kind === 'epoch').map((l) => (l.valid as { loss: number }).loss);
  // the trigger's own verdict on the logged SGD losses
  let expected: number | null = null;
  for (let e = 0; e < vals.length && expected === null; e++) if (nonMonotoneSwitch(vals.slice(0, e), vals[e]!, 1)) expected = e;
  assert.notEqual(expected, null, `validation losses ${vals.map((v) => v.toFixed(3)).join(', ')} should trigger the switch`);
  assert.equal(res.asgdFrom, expected);
  const kinds = lines.filter((l) => l.kind === 'epoch').map((l) => [l.optimizer, l.averaged]);
  kinds.forEach(([opt, avg], e) => {
    assert.equal(opt, e <= expected! ? 'sgd' : 'asgd', `epoch ${e}`);
    assert.equal(avg, e > expected!);
  });
  assert.equal(tr.optimizerKind, 'asgd');
  assert.equal(lines.find((l) => l.switchToAsgd === true)?.epoch, expected);
  tr.dispose();
});

test('kill and resume: a training killed after an epoch and resumed ends bitwise equal to an uninterrupted one (also after the ASGD switch)', () => {
  const cfg = tinyConfig({ nonmono: 1, epochs: 5, lr: 5, test: true });
  const data: RnnEvalData = { vocab: { length: V }, train: markov(600, V, 4, 1), valid: markov(160, V, 5, V - 1), test: markov(80, V, 6) };
  const straightRec = new MemoryRecorder();
  const straight = new RnnEvalTrainer(cfg, data, { recorder: straightRec });
  const r1 = straight.run();
  const w1 = straight.model.parameters().map((p) => p.toNumbers());
  assert.ok(r1.asgdFrom !== null && r1.asgdFrom < 3, `this run switches to ASGD before epoch 3 (asgdFrom ${r1.asgdFrom})`);
  // killed during SGD (after epoch 0) and during ASGD (after epoch 3, ASGD averages and best snapshot in the checkpoint)
  for (const killAfter of [0, 3]) {
    const rec = new MemoryRecorder();
    const killed = new RnnEvalTrainer(cfg, data, {
      recorder: rec,
      onEvent: (e) => {
        if (e.type === 'step' && e.epoch === killAfter + 1) throw new Error('killed');
      },
    });
    assert.throws(() => killed.run(), /killed/);
    killed.dispose();
    const resumed = new RnnEvalTrainer(cfg, data, { recorder: rec });
    assert.equal(resumed.resume(), killAfter);
    const r2 = resumed.run();
    assert.deepEqual(resumed.model.parameters().map((p) => p.toNumbers()), w1, `weights after resuming from epoch ${killAfter}`);
    assert.deepEqual(r2.test, r1.test);
    assert.deepEqual(r2.valid, r1.valid);
    assert.equal(r2.asgdFrom, r1.asgdFrom);
    assert.deepEqual(rec.metrics, straightRec.metrics, 'the metrics log equals the uninterrupted one (timings aside)');
    resumed.dispose();
  }
  straight.dispose();
});

/** A RunRecorder in memory: checkpoints are copies, the metrics log a list (seconds dropped for comparison). */
class MemoryRecorder implements RunRecorder {
  readonly location = 'memory';
  metrics: Array<Record<string, unknown>> = [];
  private checkpoints = new Map<number, { tensors: Map<string, Tensor>; state: string }>();
  result: unknown = null;
  appendMetrics(line: Record<string, unknown>): void {
    const { seconds: _s, ...rest } = line;
    this.metrics.push(JSON.parse(JSON.stringify(rest)) as Record<string, unknown>);
  }
  appendGenotype(): void {}
  writeResult(result: unknown): void {
    this.result = result;
  }
  lengths(): LogLengths {
    return { metrics: this.metrics.length, genotypes: 0 };
  }
  truncateLogs(l: LogLengths): void {
    this.metrics = this.metrics.slice(0, l.metrics);
  }
  saveCheckpoint<S>(epoch: number, tensors: Map<string, Tensor>, state: S): void {
    const copy = new Map([...tensors].map(([k, t]) => [k, keep(noGrad(() => t.detach().clone()))] as [string, Tensor]));
    this.checkpoints.set(epoch, { tensors: copy, state: JSON.stringify(state) });
  }
  loadCheckpoint<S>(epoch: number): CheckpointData<S> {
    const c = this.checkpoints.get(epoch);
    if (!c) throw new CheckpointError(`no checkpoint ${epoch}`);
    return { epoch, tensors: new Map([...c.tensors].map(([k, t]) => [k, keep(noGrad(() => t.clone()))] as [string, Tensor])), state: JSON.parse(c.state) as S };
  }
  loadLatestCheckpoint<S>(): CheckpointData<S> | null {
    const l = this.listCheckpoints();
    return l.length ? this.loadCheckpoint<S>(l[l.length - 1]!) : null;
  }
  listCheckpoints(): number[] {
    return [...this.checkpoints.keys()].sort((a, b) => a - b);
  }
  removeCheckpoint(epoch: number): void {
    this.checkpoints.get(epoch)?.tensors.forEach((t) => t.dispose());
    this.checkpoints.delete(epoch);
  }
  pruneCheckpoints(keepN: number): void {
    const l = this.listCheckpoints();
    for (const e of l.slice(0, Math.max(0, l.length - keepN))) this.removeCheckpoint(e);
  }
}

