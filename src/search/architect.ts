/**
 * The architecture step of DARTS (docs/search.md#second-order): the gradient of the validation loss with
 * respect to α, first order (ξ = 0) or second order through one unrolled weight step, then
 * Adam on α.
 *
 * Second order, with η the current weight learning rate, μ the momentum, λ the weight decay
 * and m the optimiser's momentum buffer:
 *   w'  = w − η·(μ·m + ∇w L_train(w, α) + λ·w)                       (virtual step, no clipping)
 *   v   = ∇w' L_val(w', α),  g1 = ∇α L_val(w', α)
 *   hvp = ∇α (∇w L_train(w, α) · v)                                  (mixed second derivative)
 *   gα  = g1 − η · hvp
 * The reference estimates hvp by central finite differences, ε = 0.01/‖v‖:
 *   hvp ≈ (∇α L_train(w + εv, α) − ∇α L_train(w − εv, α)) / 2ε
 * `hvp: 'exact'` computes it by double backward instead.
 *
 * The virtual step is the weight optimiser's own update (`sgdUpdate`, PyTorch's SGD rule) applied
 * to a copy of its momentum buffers, so the optimiser's state is not touched.
 *
 * The model is modified in place for the w', w ± εv evaluations and restored exactly (copied
 * back, not re-added). Batch-norm running statistics touched by the w' pass are restored too
 * (the reference evaluates w' on a copy of the model); the other passes update them as in the
 * reference.
 */
import { Adam, Tensor, grad, keep, noGrad, sgdUpdate, tidy, type SGDHyper } from '../torch/index.js';

/**
 * What the architecture step needs from a model: the bilevel loss and the two parameter sets
 * (the CNN supernet, nas/supernet.ts Network; the disparity supernet, nas/disp/model.ts).
 */
export interface BilevelModel {
  loss(x: Tensor, y: Tensor): Tensor;
  archParameters(): Tensor[];
  weightParameters(): Tensor[];
  /** running statistics (restored after the w′ pass) */
  buffers(): Tensor[];
}

/** A batch as tensors on the run's device: images [N, C, H, W] and int64 labels [N] (the data loaders hand out indices: IndexBatch); for disparity, stereo pairs [N, 6, H, W] and disparities [N, 1, H, W]. */
export interface Batch {
  x: Tensor;
  y: Tensor;
}

export interface VirtualStep {
  /** current weight learning rate η (= ξ) */
  lr: number;
  momentum: number;
  weightDecay: number;
  /** the weight optimiser's momentum buffers, one per weight parameter (null: none yet) */
  momentumBuffers: Array<Tensor | null>;
}

export interface ArchitectOptions {
  order: 'first' | 'second';
  hvp: 'finite-difference' | 'exact';
  lr: number;
  betas: [number, number];
  weightDecay: number;
}

export class Architect {
  readonly opt: Adam;

  constructor(
    readonly model: BilevelModel,
    readonly o: ArchitectOptions,
  ) {
    this.opt = new Adam(model.archParameters(), { lr: o.lr, betas: o.betas, weightDecay: o.weightDecay });
  }

  /**
   * The architecture gradient gα (one tensor per α tensor, kept: the caller disposes them).
   * First order uses only the validation batch.
   */
  gradient(train: Batch, val: Batch, vs: VirtualStep): Tensor[] {
    const m = this.model;
    const alphas = m.archParameters();
    if (this.o.order === 'first') {
      return tidy(() => grad(m.loss(val.x, val.y), alphas) as Tensor[]).map(keep);
    }
    const ws = m.weightParameters();
    return tidy(() => {
      const saved = noGrad(() => ws.map((w) => w.detach().clone()));
      // w' = w − η(μ·m + g + λw): one SGD step on copies of the momentum buffers
      // each loss lives only inside its own scope: its graph (and everything it saved) goes at once
      const gTrain = tidy(() => grad(m.loss(train.x, train.y), ws) as Tensor[]);
      const h: SGDHyper = { lr: vs.lr, momentum: vs.momentum, dampening: 0, nesterov: false, weightDecay: vs.weightDecay };
      noGrad(() =>
        ws.forEach((w, i) => {
          const buf = vs.momentum !== 0 ? vs.momentumBuffers[i] : null;
          sgdUpdate(w, gTrain[i]!, buf ? buf.clone() : null, h);
        }),
      );
      const bufs = m.buffers();
      const savedBufs = noGrad(() => bufs.map((b) => b.clone()));
      const gVal = tidy(() => grad(m.loss(val.x, val.y), [...ws, ...alphas]) as Tensor[]);
      const v = gVal.slice(0, ws.length);
      const g1 = gVal.slice(ws.length);
      noGrad(() => {
        bufs.forEach((b, i) => b.copy_(savedBufs[i]!));
        ws.forEach((w, i) => w.copy_(saved[i]!));
      });
      const hvp = this.o.hvp === 'exact' ? this.exactMixedHvp(train, v) : this.finiteDifferenceHvp(train, v, saved);
      return g1.map((g, i) => keep(g.sub(hvp[i]!, vs.lr)));
    });
  }

  /** ∇α(∇w L_train(w, α) · v) by double backward. */
  exactMixedHvp(train: Batch, v: Tensor[]): Tensor[] {
    const m = this.model;
    const ws = m.weightParameters();
    const gw = grad(m.loss(train.x, train.y), ws, { createGraph: true }) as Tensor[];
    let dot = gw[0]!.mul(v[0]!).sum();
    for (let i = 1; i < gw.length; i++) dot = dot.add(gw[i]!.mul(v[i]!).sum());
    return grad(dot, m.archParameters()) as Tensor[];
  }

  /** The reference's central difference with ε = 0.01/‖v‖; w is restored from `saved`. */
  finiteDifferenceHvp(train: Batch, v: Tensor[], saved: Tensor[]): Tensor[] {
    const m = this.model;
    const ws = m.weightParameters();
    const alphas = m.archParameters();
    let sq = 0;
    for (const t of v) sq += t.square().sum().item();
    const eps = 0.01 / Math.sqrt(sq);
    const at = (sign: number): Tensor[] => {
      noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!).add_(v[i]!, sign * eps)));
      return tidy(() => grad(m.loss(train.x, train.y), alphas) as Tensor[]);
    };
    const gp = at(1);
    const gm = at(-1);
    noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
    return gp.map((p, i) => p.sub(gm[i]!).div(2 * eps));
  }

  /** Compute gα, store it as α's gradient and take one Adam step. */
  step(train: Batch, val: Batch, vs: VirtualStep): void {
    const g = this.gradient(train, val, vs);
    this.model.archParameters().forEach((a, i) => {
      a.grad = g[i]!;
      g[i]!.dispose();
    });
    this.opt.step();
    this.opt.zeroGrad();
  }
}
