import { Tensor } from '../tensor.js';
import { keep } from '../scopes.js';
import { noGrad } from '../autograd.js';
import { ConfigError } from '../../errors.js';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

/**
 * The SGD update of PyTorch (coupled weight decay), as a pure function of one parameter:
 *   d = g + λ·w
 *   buf = d                              on the first step (no buffer yet)
 *   buf = μ·buf + (1 − dampening)·d      afterwards
 *   d = d + μ·buf (Nesterov) or d = buf
 *   w ← w − lr·d
 * `buf` is updated in place (or created and returned); `param` is updated in place unless
 * `apply` is false, in which case the step direction d is returned without touching w.
 */
export function sgdUpdate(param: Tensor, grad: Tensor, buf: Tensor | null, h: SGDHyper, apply = true): { buf: Tensor | null; direction: Tensor | null } {
  return noGrad(() => {
    let d = h.weightDecay !== 0 ? grad.add(param, h.weightDecay) : grad;
    let newBuf = buf;
    if (h.momentum !== 0) {
      if (!newBuf) {
        newBuf = d.clone();
      } else {
        newBuf.mul_(h.momentum).add_(d, 1 - h.dampening);
      }
      if (h.nesterov) {
        const nd = d.add(newBuf, h.momentum);
        if (d !== grad) d.dispose();
        d = nd;
      } else {
        if (d !== grad) d.dispose();
        d = newBuf;
      }
    }
    if (apply) {
      param.add_(d, -h.lr);
      if (d !== grad && d !== newBuf) d.dispose();
      return { buf: newBuf, direction: null };
    }
    return { buf: newBuf, direction: d === grad || d === newBuf ? d.clone() : d };
  });
}

/** SGD with momentum, dampening, Nesterov and coupled weight decay; PyTorch's exact rule. */
export class SGD {
  readonly params: Tensor[];
  hyper: SGDHyper;
  /** momentum buffers, one per parameter (null until the first step) */
  momentumBuffers: Array<Tensor | null>;

  constructor(params: Tensor[], o: SGDOptions) {
    if (!(o.lr >= 0)) throw new ConfigError(`SGD: invalid learning rate ${o.lr}`);
    if ((o.momentum ?? 0) < 0) throw new ConfigError(`SGD: invalid momentum ${o.momentum}`);
    if ((o.weightDecay ?? 0) < 0) throw new ConfigError(`SGD: invalid weight decay ${o.weightDecay}`);
    if (o.nesterov && (!(o.momentum ?? 0) || (o.dampening ?? 0) !== 0)) {
      throw new ConfigError('SGD: Nesterov momentum requires a momentum and zero dampening');
    }
    this.params = params;
    this.hyper = { lr: o.lr, momentum: o.momentum ?? 0, dampening: o.dampening ?? 0, nesterov: o.nesterov ?? false, weightDecay: o.weightDecay ?? 0 };
    this.momentumBuffers = params.map(() => null);
  }

  get lr(): number {
    return this.hyper.lr;
  }
  set lr(v: number) {
    this.hyper.lr = v;
  }

  step(): void {
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      const { buf } = sgdUpdate(p, g, this.momentumBuffers[i]!, this.hyper);
      if (buf && buf !== this.momentumBuffers[i]) this.momentumBuffers[i] = keep(buf);
      g.dispose();
    });
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** Hyper-parameters and momentum buffers (tensors by parameter index). */
  stateDict(): { hyper: SGDHyper; buffers: Array<Tensor | null> } {
    return { hyper: { ...this.hyper }, buffers: this.momentumBuffers };
  }

  loadStateDict(s: { hyper: SGDHyper; buffers: Array<Tensor | null> }): void {
    if (s.buffers.length !== this.params.length) {
      throw new ConfigError(`SGD state has ${s.buffers.length} buffers for ${this.params.length} parameters`);
    }
    this.hyper = { ...s.hyper };
    this.momentumBuffers.forEach((b) => b?.dispose());
    this.momentumBuffers = s.buffers.map((b) => (b ? keep(noGrad(() => b.detach().clone())) : null));
  }

  dispose(): void {
    this.momentumBuffers.forEach((b) => b?.dispose());
    this.momentumBuffers = this.params.map(() => null);
  }
}
