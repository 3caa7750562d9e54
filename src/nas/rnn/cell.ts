/**
 * The DARTS recurrent cells (docs/lm.md#models; DARTS `rnn/model.py` DARTSCell, `rnn/model_search.py`
 * DARTSCellSearch).
 *
 * One time step, from input x_t and previous hidden h_{t−1} (both [B, ·]):
 *   [c0 | h0] = [x_t ⊙ m_x, h_{t−1} ⊙ m_h] · W0,     s0 = h_{t−1} + σ(c0) ⊙ (tanh(h0) − h_{t−1})
 *   node i on the edge from state s:  [c | h] = (s ⊙ m_h) · W_i,   s_i = s + σ(c) ⊙ (f(h) − s)
 *   h_t = mean of the concat states
 * m_x, m_h are the variational masks of dropoutx and dropouth (train mode only, one per segment).
 * The evaluation cell has one edge per node (its gene). The search cell mixes every edge and op:
 * s_i = Σ_{j<i} Σ_{f ≠ none} softmax(α)_{edge(i,j), f} · (s_j + σ(c_j) ⊙ (f(h_j) − s_j)), with batch
 * norm without affine parameters on s0 and on every s_i, and h_t = mean(s_1 … s_steps).
 */
import { BatchNorm2d, Module, Tensor, cat, noGrad, stack, tidy, empty } from '../../torch/index.js';
import { ShapeError } from '../../errors.js';
import { mask2d } from './dropout.js';
import type { RnnGenotype } from './genotype.js';
import type { RnnOpName } from './space.js';

/** DARTS `INITRANGE`: every weight of the language models starts as U(−0.04, 0.04). */
export const RNN_INIT_RANGE = 0.04;

/** A fresh U(−0.04, 0.04) tensor. */
export function rnnUniform(shape: number[]): Tensor {
  return noGrad(() => empty(shape).uniform_(-RNN_INIT_RANGE, RNN_INIT_RANGE));
}

/** The activation of a recurrent op (`none` has none: it is the zero op of the search cell). */
export function rnnActivation(op: RnnOpName, x: Tensor): Tensor {
  switch (op) {
    case 'tanh':
      return x.tanh();
    case 'relu':
      return x.relu();
    case 'sigmoid':
      return x.sigmoid();
    case 'identity':
      return x;
    case 'none':
      throw new ShapeError("rnnActivation: 'none' is the zero op and has no activation");
  }
}

/** Parameters named '0', '1', … (PyTorch's ParameterList keys). */
export class ParameterList extends Module {
  readonly length: number;
  constructor(tensors: Tensor[]) {
    super();
    tensors.forEach((t, i) => this.registerParameter(String(i), t));
    this.length = tensors.length;
  }
  at(i: number): Tensor {
    return this.param(String(i))!;
  }
}

/** Variational masks of one segment (null outside training). */
export interface CellMasks {
  x: Tensor;
  h: Tensor;
}

/** What the cells share: W0 ([ninp + nhid, 2·nhid], key `_W0`), W_i ([nhid, 2·nhid], keys `_Ws.i`), the masks and the time loop. */
export abstract class RnnCellBase extends Module {
  readonly Ws: ParameterList;
  constructor(
    readonly ninp: number,
    readonly nhid: number,
    readonly steps: number,
    readonly dropouth: number,
    readonly dropoutx: number,
  ) {
    super();
    this.registerParameter('_W0', rnnUniform([ninp + nhid, 2 * nhid]));
    this.Ws = this.registerModule('_Ws', new ParameterList(Array.from({ length: steps }, () => rnnUniform([nhid, 2 * nhid]))));
  }

  get W0(): Tensor {
    return this.param('_W0')!;
  }

  /** s0 = h + σ(c0) ⊙ (tanh(h0) − h) from [x, h]·W0 (masked in training). */
  protected initState(x: Tensor, hPrev: Tensor, masks: CellMasks | null): Tensor {
    const xh = masks ? cat([x.mul(masks.x), hPrev.mul(masks.h)], -1) : cat([x, hPrev], -1);
    const ch = xh.matmul(this.W0);
    const c0 = ch.narrow(-1, 0, this.nhid).sigmoid();
    const h0 = ch.narrow(-1, this.nhid, this.nhid).tanh();
    return hPrev.add(c0.mul(h0.sub(hPrev)));
  }

  /** One time step: h_t from x_t [B, ninp] and h_{t−1} [B, nhid]. */
  protected abstract step(x: Tensor, hPrev: Tensor, masks: CellMasks | null, weights: Tensor | null): Tensor;

  /**
   * Run a segment: `inputs` [T, B, ninp], `hidden` [1, B, nhid] → every h_t [T, B, nhid] and the
   * last one as [1, B, nhid]. `weights` are the search cell's edge weights (ignored by the evaluation cell).
   */
  run(inputs: Tensor, hidden: Tensor, weights: Tensor | null = null): { hiddens: Tensor; last: Tensor } {
    const [T, B] = [inputs.shape[0]!, inputs.shape[1]!];
    if (hidden.ndim !== 3 || hidden.shape[0] !== 1 || hidden.shape[1] !== B || hidden.shape[2] !== this.nhid) {
      throw new ShapeError(`recurrent cell: hidden has shape [${hidden.shape.join(', ')}], expected [1, ${B}, ${this.nhid}]`, 'start from initHidden(batch) and pass back the hidden the previous call returned');
    }
    return tidy(() => {
      const masks = this.training ? { x: mask2d(B, this.ninp, 1 - this.dropoutx, inputs), h: mask2d(B, this.nhid, 1 - this.dropouth, inputs) } : null;
      const ws = weights ? this.prepareWeights(weights) : null;
      let h = hidden.select(0, 0);
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const x = inputs.select(0, t);
        const prev = h;
        h = tidy(() => this.step(x, prev, masks, ws));
        outs.push(h);
      }
      const hiddens = stack(outs, 0);
      return { hiddens, last: hiddens.narrow(0, T - 1, 1) };
    });
  }

  /** Per-forward preparation of the edge weights (the search cell slices them once per segment). */
  protected prepareWeights(w: Tensor): Tensor {
    return w;
  }
}

/** The evaluation cell of a genotype (DARTS DARTSCell): one op per node, no batch norm. */
export class DartsRnnCell extends RnnCellBase {
  constructor(ninp: number, nhid: number, dropouth: number, dropoutx: number, readonly genotype: RnnGenotype) {
    super(ninp, nhid, genotype.recurrent.length, dropouth, dropoutx);
  }

  protected step(x: Tensor, hPrev: Tensor, masks: CellMasks | null): Tensor {
    const H = this.nhid;
    const states = [this.initState(x, hPrev, masks)];
    this.genotype.recurrent.forEach(([op, pred], i) => {
      const sPrev = states[pred]!;
      const ch = (masks ? sPrev.mul(masks.h) : sPrev).matmul(this.Ws.at(i));
      const c = ch.narrow(-1, 0, H).sigmoid();
      const h = rnnActivation(op, ch.narrow(-1, H, H));
      states.push(sPrev.add(c.mul(h.sub(sPrev))));
    });
    return stack(this.genotype.concat.map((k) => states[k]!), -1).mean(-1);
  }
}

/**
 * The search cell (DARTS DARTSCellSearch): every node mixes all edges from earlier states and all
 * ops, weighted by the [edges, ops] edge weights; batch norm (affine = false, key `bn`) on s0 and
 * on every node; the output averages all nodes.
 */
export class DartsRnnSearchCell extends RnnCellBase {
  readonly bn: BatchNorm2d;
  constructor(ninp: number, nhid: number, dropouth: number, dropoutx: number, steps: number, readonly ops: readonly RnnOpName[]) {
    super(ninp, nhid, steps, dropouth, dropoutx);
    // BatchNorm2d's functional path normalises [B, nhid] per feature, as BatchNorm1d (same buffers and keys)
    this.bn = this.registerModule('bn', new BatchNorm2d(nhid, { affine: false }));
  }

  /** Node i's weights per op, as [i+1, 1, 1] columns (null for `none`), packed into one list. */
  private nodeWeights: Array<Array<Tensor | null>> = [];

  /** `weights`: the [edges, ops] edge weights (softmax(α), or given ones); required. */
  override run(inputs: Tensor, hidden: Tensor, weights: Tensor | null = null): { hiddens: Tensor; last: Tensor } {
    const want = [(this.steps * (this.steps + 1)) / 2, this.ops.length];
    if (!weights || weights.shape.join(',') !== want.join(',')) {
      throw new ShapeError(`search cell: edge weights have shape [${weights ? weights.shape.join(', ') : 'none'}], expected [${want.join(', ')}]`, 'pass softmax(α) or one-hot weights of a genotype');
    }
    try {
      return super.run(inputs, hidden, weights);
    } finally {
      this.nodeWeights = [];
    }
  }

  protected override prepareWeights(w: Tensor): Tensor {
    let offset = 0;
    this.nodeWeights = [];
    for (let i = 0; i < this.steps; i++) {
      const rows = w.narrow(0, offset, i + 1);
      this.nodeWeights.push(this.ops.map((op, k) => (op === 'none' ? null : rows.select(1, k).reshape(i + 1, 1, 1))));
      offset += i + 1;
    }
    return w;
  }

  protected step(x: Tensor, hPrev: Tensor, masks: CellMasks | null): Tensor {
    const H = this.nhid;
    const B = x.shape[0]!;
    let states = this.bn.forward(this.initState(x, hPrev, masks)).unsqueeze(0);
    const hMask = masks ? masks.h.unsqueeze(0) : null;
    for (let i = 0; i < this.steps; i++) {
      const masked = hMask ? states.mul(hMask) : states;
      const ch = masked.reshape(-1, H).matmul(this.Ws.at(i)).reshape(i + 1, B, 2 * H);
      const c = ch.narrow(-1, 0, H).sigmoid();
      const h = ch.narrow(-1, H, H);
      let s: Tensor | null = null;
      for (let k = 0; k < this.ops.length; k++) {
        const w = this.nodeWeights[i]![k];
        if (!w) continue;
        const unweighted = states.add(c.mul(rnnActivation(this.ops[k]!, h).sub(states)));
        const term = w.mul(unweighted).sum(0);
        s = s === null ? term : s.add(term);
      }
      if (s === null) throw new ShapeError('search cell: no op other than none');
      const node = this.bn.forward(s);
      states = cat([states, node.unsqueeze(0)], 0);
    }
    return states.narrow(0, 1, this.steps).mean(0);
  }
}
