/**
 * The dropouts of the DARTS language models (docs/lm.md#models; DARTS `rnn/utils.py`, from
 * AWD-LSTM): every mask is drawn once per forward call (one BPTT segment) and shared by all
 * time steps. Masks come from libtorch's seeded generator, so a seed fixes them.
 */
import { F, Tensor, bernoulli, rand, zeros, type Device, type DType } from '../../torch/index.js';

function like(t: Tensor): { dtype: DType; device: Device } {
  return { dtype: t.dtype, device: t.device as Device };
}

/**
 * A [B, D] variational mask with entries 0 or 1/keep: floor(U[0,1) + keep)/keep (DARTS `mask2d`).
 * Drawn even when keep = 1 (then all ones), as the reference does, so the generator advances alike.
 */
export function mask2d(B: number, D: number, keep: number, ref: Tensor): Tensor {
  return rand([B, D], like(ref)).add(keep).floor().div(keep);
}

/**
 * Locked (variational) dropout of a [T, B, D] sequence: one Bernoulli(1−p)/(1−p) mask of shape
 * [1, B, D] for all time steps (DARTS `LockedDropout`). Identity outside training or with p = 0
 * (no draw then).
 */
export function lockedDropout(x: Tensor, p: number, training: boolean): Tensor {
  if (!training || !p) return x;
  const m = bernoulli(zeros([1, x.shape[1]!, x.shape[2]!], like(x)), 1 - p).div(1 - p);
  return x.mul(m);
}

/**
 * Embedding lookup with embedding dropout (DARTS `embedded_dropout`, Gal & Ghahramani): whole
 * rows (words) of the embedding matrix are dropped with probability p and the rest scaled by
 * 1/(1−p), the same words for every position of the segment. Plain lookup outside training or with p = 0.
 */
export function embeddedDropout(weight: Tensor, words: Tensor, p: number, training: boolean): Tensor {
  if (!training || !p) return F.embedding(weight, words);
  const m = bernoulli(zeros([weight.shape[0]!, 1], like(weight)), 1 - p).div(1 - p);
  return F.embedding(weight.mul(m), words);
}
