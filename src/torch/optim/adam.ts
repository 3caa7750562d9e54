import { Tensor } from '../tensor.js';
import { keep } from '../scopes.js';
import { noGrad } from '../autograd.js';
import { ConfigError } from '../../errors.js';

export interface AdamOptions {
  lr?: number;
  betas?: [number, number];
  eps?: number;
  /** Coupled L2 (added to the gradient, PyTorch `Adam(weight_decay=…)`), not AdamW. */
  weightDecay?: number;
}

export interface AdamHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

interface AdamSlot {
  step: number;
  expAvg: Tensor | null;
  expAvgSq: Tensor | null;
}

/**
 * Adam with PyTorch 1.13's exact update:
 *   g ← g + λ·w;  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
 *   w ← w − (lr / (1−β1^t)) · m / (√v / √(1−β2^t) + eps)
 */
export class Adam {
  readonly params: Tensor[];
  hyper: AdamHyper;
  slots: AdamSlot[];

  constructor(params: Tensor[], o: AdamOptions = {}) {
    const betas = o.betas ?? [0.9, 0.999];
    if (!((o.lr ?? 1e-3) >= 0)) throw new ConfigError(`Adam: invalid learning rate ${o.lr}`);
    if (!(betas[0] >= 0 && betas[0] < 1 && betas[1] >= 0 && betas[1] < 1)) throw new ConfigError(`Adam: invalid betas ${JSON.stringify(betas)}`);
    if (!((o.eps ?? 1e-8) >= 0)) throw new ConfigError(`Adam: invalid eps ${o.eps}`);
    this.params = params;
    this.hyper = { lr: o.lr ?? 1e-3, betas: [betas[0], betas[1]], eps: o.eps ?? 1e-8, weightDecay: o.weightDecay ?? 0 };
    this.slots = params.map(() => ({ step: 0, expAvg: null, expAvgSq: null }));
  }

  get lr(): number {
    return this.hyper.lr;
  }
  set lr(v: number) {
    this.hyper.lr = v;
  }

  step(): void {
    const { lr, betas, eps, weightDecay } = this.hyper;
    const [b1, b2] = betas;
    noGrad(() => {
      this.params.forEach((p, i) => {
        const g0 = p.grad;
        if (!g0) return;
        const s = this.slots[i]!;
        const g = weightDecay !== 0 ? g0.add(p, weightDecay) : g0;
        if (!s.expAvg) s.expAvg = keep(p.zerosLike());
        if (!s.expAvgSq) s.expAvgSq = keep(p.zerosLike());
        s.step += 1;
        s.expAvg.mul_(b1).add_(g, 1 - b1);
        s.expAvgSq.mul_(b2).addcmul_(g, g, 1 - b2);
        const bc1 = 1 - Math.pow(b1, s.step);
        const bc2 = 1 - Math.pow(b2, s.step);
        const denom = s.expAvgSq.sqrt();
        denom.div_(Math.sqrt(bc2)).add_(eps);
        p.addcdiv_(s.expAvg, denom, -lr / bc1);
        denom.dispose();
        if (g !== g0) g.dispose();
        g0.dispose();
      });
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  stateDict(): { hyper: AdamHyper; slots: AdamSlot[] } {
    return { hyper: { ...this.hyper, betas: [...this.hyper.betas] }, slots: this.slots };
  }

  loadStateDict(s: { hyper: AdamHyper; slots: AdamSlot[] }): void {
    if (s.slots.length !== this.params.length) throw new ConfigError(`Adam state has ${s.slots.length} slots for ${this.params.length} parameters`);
    this.hyper = { ...s.hyper, betas: [s.hyper.betas[0], s.hyper.betas[1]] };
    this.dispose();
    const copy = (t: Tensor | null): Tensor | null => (t ? keep(noGrad(() => t.detach().clone())) : null);
    this.slots = s.slots.map((x) => ({ step: x.step, expAvg: copy(x.expAvg), expAvgSq: copy(x.expAvgSq) }));
  }

  dispose(): void {
    for (const s of this.slots) {
      s.expAvg?.dispose();
      s.expAvgSq?.dispose();
    }
    this.slots = this.params.map(() => ({ step: 0, expAvg: null, expAvgSq: null }));
  }
}
