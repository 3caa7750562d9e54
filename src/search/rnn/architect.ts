/**
 * The architecture step of the recurrent-cell search (docs/lm.md#architecture-step), after DARTS
 * `rnn/architect.py`. It differs from the CNN's (search/architect.ts) in four places, all taken
 * from the reference:
 * - every loss starts from a hidden state: L_train from the training stream's (h_train), L_val
 *   from the validation stream's (h_val); the step returns the hidden state its validation pass
 *   ends in, which the next step continues from;
 * - the virtual step is the real one, plain SGD (no momentum) with the gradient clipped first:
 *     w′ = w − η · (clip(∇w L_train(w, α; h_train)) + λ·w)
 * - the vector of the Hessian-vector product is the clipped validation gradient plus weight decay:
 *     v = clip(∇w′ L_val(w′, α; h_val)) + λ·w′,   g1 = ∇α L_val(w′, α; h_val)
 * - the mixed product is taken at w′ (hvpAt 'unrolled', the reference's model_unrolled), or at
 *   w (hvpAt 'weights', what the chain rule asks for; with clipping inactive the result is then
 *   the exact gradient of L_val(w′(α), α) + ½λ‖w′(α)‖²):
 *     hvp = ∇α (∇w L_train(base, α; h_train) · v),  by central differences with R = 0.01/‖v‖
 *     and denominator 2R + 1e-10 (the reference), or exactly by double backward;
 *   gα = g1 − η·hvp.
 * η is the batch's learning rate (lr · seq_len / bptt). First order: gα = ∇α L_val(w, α; h_val).
 *
 * The model is changed in place for w′ and w ± Rv and restored by copying the saved values back.
 * The reference evaluates w′ (and the product at w′) on a copy of the model, so those passes
 * leave the model's batch-norm statistics alone; here they are saved and restored around them.
 */
import { Adam, Tensor, grad, keep, noGrad, tidy } from '../../torch/index.js';
import type { RnnSearchModel } from '../../nas/rnn/model.js';

/** A BPTT window as tensors: int64 [T, B] input and target (the target is the input shifted by one token). */
export interface TokenTensors {
  input: Tensor;
  target: Tensor;
}

export interface RnnArchitectOptions {
  order: 'first' | 'second';
  hvp: 'finite-difference' | 'exact';
  hvpAt: 'unrolled' | 'weights';
  lr: number;
  betas: [number, number];
  weightDecay: number;
}

/** The weight step the virtual step mirrors. */
export interface RnnVirtualStep {
  /** η: this batch's weight learning rate */
  lr: number;
  /** λ: the weight decay in force */
  weightDecay: number;
  /** the weight step's gradient-norm clip (DARTS `--clip`) */
  gradClip: number;
}

/** DARTS' `_clip`: scale a gradient list in place so its global L2 norm is at most maxNorm (factor max/(norm + 1e-6)). */
export function clipTensors(gs: Tensor[], maxNorm: number): number {
  return noGrad(() => {
    let sq = 0;
    for (const g of gs) sq += tidy(() => g.square().sum().item());
    const total = Math.sqrt(sq);
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of gs) g.mul_(coef);
    return total;
  });
}

export class RnnArchitect {
  readonly opt: Adam;

  constructor(
    readonly model: RnnSearchModel,
    readonly o: RnnArchitectOptions,
  ) {
    this.opt = new Adam(model.archParameters(), { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
  }

  /**
   * gα (kept tensors, one per α tensor; the caller disposes them) and the hidden state the
   * validation pass ended in (detached, kept).
   */
  gradient(train: TokenTensors, hTrain: Tensor, val: TokenTensors, hVal: Tensor, vs: RnnVirtualStep): { grads: Tensor[]; hidden: Tensor } {
    const m = this.model;
    const alphas = m.archParameters();
    if (this.o.order === 'first') {
      return tidy(() => {
        const r = m.loss(val.input, val.target, hVal);
        const g = grad(r.loss, alphas) as Tensor[];
        return { grads: g.map(keep), hidden: keep(r.hidden.detach()) };
      });
    }
    const ws = m.weightParameters();
    return tidy(() => {
      const saved = noGrad(() => ws.map((w) => w.detach().clone()));
      // w′ = w − η(clip(∇w L_train) + λw); each loss in its own scope, so its graph goes at once
      const gTrain = tidy(() => grad(m.loss(train.input, train.target, hTrain).loss, ws) as Tensor[]);
      clipTensors(gTrain, vs.gradClip);
      noGrad(() => ws.forEach((w, i) => w.sub_(gTrain[i]!.add(w, vs.weightDecay), vs.lr)));
      const bufs = m.buffers();
      const savedBufs = noGrad(() => bufs.map((b) => b.clone()));
      const valOut = tidy(() => {
        const r = m.loss(val.input, val.target, hVal);
        const g = grad(r.loss, [...ws, ...alphas]) as Tensor[];
        return { g, hidden: r.hidden.detach() };
      });
      const v = valOut.g.slice(0, ws.length);
      const g1 = valOut.g.slice(ws.length);
      clipTensors(v, vs.gradClip);
      noGrad(() => v.forEach((t, i) => t.add_(ws[i]!, vs.weightDecay)));
      noGrad(() => bufs.forEach((b, i) => b.copy_(savedBufs[i]!)));
      const atUnrolled = this.o.hvpAt === 'unrolled';
      const base = atUnrolled ? noGrad(() => ws.map((w) => w.detach().clone())) : saved;
      if (!atUnrolled) noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
      const hvp = this.o.hvp === 'exact' ? this.exactMixedHvp(train, hTrain, v) : this.finiteDifferenceHvp(train, hTrain, v, base);
      if (atUnrolled) noGrad(() => bufs.forEach((b, i) => b.copy_(savedBufs[i]!)));
      noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
      return { grads: g1.map((g, i) => keep(g.sub(hvp[i]!, vs.lr))), hidden: keep(valOut.hidden) };
    });
  }

  /** ∇α(∇w L_train(w, α) · v) by double backward, at the model's current weights. */
  exactMixedHvp(train: TokenTensors, hTrain: Tensor, v: Tensor[]): Tensor[] {
    const m = this.model;
    const ws = m.weightParameters();
    const gw = grad(m.loss(train.input, train.target, hTrain).loss, ws, { createGraph: true }) as Tensor[];
    let dot = gw[0]!.mul(v[0]!).sum();
    for (let i = 1; i < gw.length; i++) dot = dot.add(gw[i]!.mul(v[i]!).sum());
    return grad(dot, m.archParameters()) as Tensor[];
  }

  /** The reference's central difference around `base`: R = 0.01/‖v‖, (g₊ − g₋)/(2R + 1e-10); the model's weights are left at `base`. */
  finiteDifferenceHvp(train: TokenTensors, hTrain: Tensor, v: Tensor[], base: Tensor[]): Tensor[] {
    const m = this.model;
    const ws = m.weightParameters();
    const alphas = m.archParameters();
    let sq = 0;
    for (const t of v) sq += tidy(() => t.square().sum().item());
    const R = 0.01 / Math.sqrt(sq);
    const at = (sign: number): Tensor[] => {
      noGrad(() => ws.forEach((w, i) => w.copy_(base[i]!).add_(v[i]!, sign * R)));
      return tidy(() => grad(m.loss(train.input, train.target, hTrain).loss, alphas) as Tensor[]);
    };
    const gp = at(1);
    const gm = at(-1);
    noGrad(() => ws.forEach((w, i) => w.copy_(base[i]!)));
    return gp.map((p, i) => p.sub(gm[i]!).div(2 * R + 1e-10));
  }

  /** gα as α's gradient, one Adam step; returns the validation stream's next hidden state (kept). */
  step(train: TokenTensors, hTrain: Tensor, val: TokenTensors, hVal: Tensor, vs: RnnVirtualStep): Tensor {
    const { grads, hidden } = this.gradient(train, hTrain, val, hVal, vs);
    this.model.archParameters().forEach((a, i) => {
      a.grad = grads[i]!;
      grads[i]!.dispose();
    });
    this.opt.step();
    this.opt.zeroGrad();
    return hidden;
  }
}
