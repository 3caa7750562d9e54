/**
 * Language-model helpers shared by the recurrent search and the evaluation training
 * (docs/lm.md#models): token batches as tensors, and the validation / test pass of DARTS
 * (`rnn/train.py` evaluate()) with its perplexity.
 */
import { noGrad, tensor, tidy, type Device, type Tensor } from '../../torch/index.js';
import { getBatch, type TokenBatch, type TokenGrid } from '../../data/index.js';
import { ConfigError } from '../../errors.js';
import type { RnnModelBase } from '../../nas/rnn/index.js';

export interface LmMetrics {
  /** mean NLL per token (nats) */
  loss: number;
  /** exp(loss) */
  ppl: number;
  /** target tokens scored */
  tokens: number;
}

/** A token batch ([seqLen, batch] ids) as int64 tensors on `device`. */
export function lmBatchTensors(b: TokenBatch, device: Device = 'cpu'): { input: Tensor; target: Tensor } {
  const opts = device === 'cpu' ? { dtype: 'int64' as const } : { dtype: 'int64' as const, device };
  return {
    input: tensor(BigInt64Array.from(b.input, (v) => BigInt(v)), [b.seqLen, b.batch], opts),
    target: tensor(BigInt64Array.from(b.target, (v) => BigInt(v)), [b.seqLen, b.batch], opts),
  };
}

/**
 * DARTS' evaluate(): eval mode, segments of `bptt` rows from row 0, the hidden state carried
 * (detached) from segment to segment, loss = Σ_segments mean NLL · segment length / rows of the
 * grid. The divisor is the grid's row count, one more than the rows that have a target (DARTS'
 * `len(data_source)`; the difference is 1/rows, 1.4e-4 on PTB's validation grid). With
 * `maxBatches` (a partial pass) the divisor is the rows scored. The model's mode is restored.
 */
export function evaluateLm(model: RnnModelBase, grid: TokenGrid, o: { bptt: number; maxBatches?: number | null; device?: Device }): LmMetrics {
  if (grid.rows < 2) throw new ConfigError(`the evaluation stream has ${grid.rows} row(s); it needs at least 2`, 'use a smaller evaluation batch size or more text');
  const wasTraining = model.training;
  const maxBatches = o.maxBatches ?? Infinity;
  model.eval();
  let total = 0;
  let rowsScored = 0;
  let batches = 0;
  let hidden = model.initHidden(grid.batch);
  try {
    for (let i = 0; i < grid.rows - 1 && batches < maxBatches; i += o.bptt, batches++) {
      const b = getBatch(grid, i, o.bptt);
      const r = tidy(() =>
        noGrad(() => {
          const { input, target } = lmBatchTensors(b, o.device ?? 'cpu');
          const out = model.loss(input, target, hidden);
          return { loss: out.loss.item(), hidden: out.hidden.detach() };
        }),
      );
      hidden.dispose();
      hidden = r.hidden;
      total += r.loss * b.seqLen;
      rowsScored += b.seqLen;
    }
  } finally {
    hidden.dispose();
    model.train(wasTraining);
  }
  const complete = rowsScored === grid.rows - 1;
  const loss = total / (complete ? grid.rows : rowsScored);
  return { loss, ppl: Math.exp(loss), tokens: rowsScored * grid.batch };
}
