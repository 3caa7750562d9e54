/**
 * Averaged SGD and the non-monotone trigger that switches to it (docs/lm.md#models; Merity et al.,
 * "Regularizing and optimizing LSTM language models" (NT-ASGD), as DARTS `rnn/train.py` uses it).
 *
 * `Asgd` is PyTorch's `torch.optim.ASGD` rule, per parameter, with its state (step, η, μ, ax):
 *   step ← step + 1
 *   g ← ∇ + λ_wd·w
 *   w ← w·(1 − λ·η);  w ← w − η·g                    (η, μ as left by the previous step; at the first step η = the lr then, μ = 1)
 *   ax ← w if μ = 1, else ax + μ·(w − ax)
 *   η ← lr / (1 + λ·lr·step)^α;  μ ← 1 / max(1, step − t0)
 * DARTS constructs it with t0 = 0, λ = 0 (so η = the current lr and the decay factor is 1) and the
 * default α = 0.75. Two consequences of the rule, kept as PyTorch has them: η used at a step is the
 * lr set before the *previous* step (DARTS rescales lr per batch by seq_len/bptt, so the scale
 * applied lags one batch; the first ASGD step uses its own lr, as the state is created then), and
 * ax is the plain mean of the iterates from the second ASGD step on (μ is 1 at steps 1 and 2).
 *
 * `nonMonotoneSwitch` is DARTS' trigger: after an epoch's validation loss v, switch from SGD to
 * ASGD when more than `nonmono` losses were recorded before it and v > min(all but the last
 * `nonmono` of them).
 */
import { noGrad, keep, type Tensor } from '../../torch/index.js';
import { ConfigError } from '../../errors.js';

export interface AsgdOptions {
  lr: number;
  /** decay term λ (DARTS: 0) */
  lambd?: number;
  /** power α of the η schedule (PyTorch default 0.75) */
  alpha?: number;
  /** step from which averaging starts (DARTS: 0) */
  t0?: number;
  weightDecay?: number;
}

export interface AsgdHyper {
  lr: number;
  lambd: number;
  alpha: number;
  t0: number;
  weightDecay: number;
}

/** Per-parameter scalar state (the tensors `ax` are kept apart). */
export interface AsgdScalars {
  step: number[];
  eta: number[];
  mu: number[];
}

export class Asgd {
  readonly params: Tensor[];
  hyper: AsgdHyper;
  scalars: AsgdScalars;
  /** the running averages, one per parameter */
  ax: Tensor[];

  constructor(params: Tensor[], o: AsgdOptions) {
    if (!(o.lr >= 0)) throw new ConfigError(`ASGD: invalid learning rate ${o.lr}`);
    if ((o.weightDecay ?? 0) < 0) throw new ConfigError(`ASGD: invalid weight decay ${o.weightDecay}`);
    this.params = params;
    this.hyper = { lr: o.lr, lambd: o.lambd ?? 1e-4, alpha: o.alpha ?? 0.75, t0: o.t0 ?? 1e6, weightDecay: o.weightDecay ?? 0 };
    this.scalars = { step: params.map(() => 0), eta: params.map(() => o.lr), mu: params.map(() => 1) };
    this.ax = params.map((p) => keep(noGrad(() => p.zerosLike())));
  }

  get lr(): number {
    return this.hyper.lr;
  }
  set lr(v: number) {
    this.hyper.lr = v;
  }

  /** Steps taken (by the first parameter). */
  get steps(): number {
    return this.scalars.step[0] ?? 0;
  }

  step(): void {
    const h = this.hyper;
    const s = this.scalars;
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g0 = p.grad;
        if (!g0) return;
        // PyTorch creates the state at a parameter's first step: η₀ = the lr in force then, μ₀ = 1
        if (s.step[i] === 0) s.eta[i] = h.lr;
        s.step[i] = s.step[i]! + 1;
        const g = h.weightDecay !== 0 ? g0.add(p, h.weightDecay) : g0;
        const eta = s.eta[i]!;
        if (h.lambd !== 0) p.mul_(1 - h.lambd * eta);
        p.add_(g, -eta);
        const ax = this.ax[i]!;
        if (s.mu[i] !== 1) {
          const d = p.sub(ax).mul(s.mu[i]!);
          ax.add_(d);
          d.dispose();
        } else ax.copy_(p);
        if (g !== g0) g.dispose();
        g0.dispose();
        s.eta[i] = h.lr / Math.pow(1 + h.lambd * h.lr * s.step[i]!, h.alpha);
        s.mu[i] = 1 / Math.max(1, s.step[i]! - h.t0);
      });
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Hyper-parameters and scalar state (JSON); `ax` holds the tensors. */
  stateDict(): { hyper: AsgdHyper; scalars: AsgdScalars; ax: Tensor[] } {
    return { hyper: { ...this.hyper }, scalars: { step: [...this.scalars.step], eta: [...this.scalars.eta], mu: [...this.scalars.mu] }, ax: this.ax };
  }

  loadStateDict(st: { hyper: AsgdHyper; scalars: AsgdScalars; ax: Tensor[] }): void {
    const n = this.params.length;
    if (st.ax.length !== n || st.scalars.step.length !== n) throw new ConfigError(`ASGD state has ${st.ax.length} averages for ${n} parameters`);
    this.hyper = { ...st.hyper };
    this.scalars = { step: [...st.scalars.step], eta: [...st.scalars.eta], mu: [...st.scalars.mu] };
    noGrad(() => this.ax.forEach((a, i) => a.copy_(st.ax[i]!)));
  }

  dispose(): void {
    for (const a of this.ax) a.dispose();
  }
}

/** DARTS' non-monotone trigger: `history` = validation losses of earlier SGD epochs, `v` = this epoch's. */
export function nonMonotoneSwitch(history: readonly number[], v: number, nonmono: number): boolean {
  if (!Number.isInteger(nonmono) || nonmono < 1) throw new ConfigError(`nonmono must be a positive integer, got ${nonmono}`, 'DARTS uses 5');
  if (history.length <= nonmono) return false;
  return v > Math.min(...history.slice(0, history.length - nonmono));
}
