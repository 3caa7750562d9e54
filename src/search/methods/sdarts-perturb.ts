/**
 * SDARTS perturbations of the edge weights (Chen & Hsieh, ICML 2020; docs/sdarts.md): the rules
 * behind the `SdartsPlugin` (./sdarts.ts). The perturbation acts on the softmax weights
 * s = softmax(α), as the authors' code does (it overwrites α with softmax(α) for the weight step,
 * `softmax_arch_parameters`, and restores it afterwards):
 *
 * - RS:  δ ~ U[−ε, ε] per entry, weights = clip(s + δ);
 * - ADV: PGD in the L∞ ball ‖δ‖∞ ≤ ε maximising the training loss at clip(s + δ): random start
 *   δ₀ ~ U[−ε, ε], then `steps` signed-gradient ascent steps of size 2ε/steps (their Linf_SGD),
 *   each followed by δ ← clamp(δ, −ε, ε); if the loss at the result is below the unperturbed loss,
 *   no perturbation (δ = 0), as their Linf_PGD_alpha.
 *
 * clip (their `model.clip()`): clamp each row to [0, 1] and divide by its sum (a row clamped to
 * all zeros gets 1 at its largest entry before clamping). Here δ itself is kept in the ball and
 * clip is applied when forming the weights; the authors clip the iterate and clamp the difference,
 * which can leave the clipped weights slightly outside the ball (docs/sdarts.md).
 *
 * ε schedule (their train_search.py): ε(e) = 0.03 + (ε_max − 0.03)·e/E at epoch e of E.
 * Pure apart from the loss closure the caller passes for ADV.
 */
import type { Rng } from '../../util/rng.js';

export type Rows = number[][];

/** Clamp each row to [0, 1] and renormalise it to sum 1 (argmax → 1 if every entry clamps to 0). */
export function clipRows(rows: Rows): Rows {
  return rows.map((row) => {
    let arg = 0;
    row.forEach((v, k) => {
      if (v > row[arg]!) arg = k;
    });
    const c = row.map((v) => Math.min(1, Math.max(0, v)));
    let s = c.reduce((a, b) => a + b, 0);
    if (s === 0) {
      c[arg] = 1;
      s = 1;
    }
    return c.map((v) => v / s);
  });
}

export function addRows(a: Rows, b: Rows): Rows {
  return a.map((r, e) => r.map((v, k) => v + b[e]![k]!));
}

/** U[−ε, ε] per entry, drawn row by row from `rng`. */
export function uniformNoise(shape: Rows, eps: number, rng: Rng): Rows {
  return shape.map((r) => r.map(() => (2 * rng.random() - 1) * eps));
}

/** ε of epoch `epoch` of `epochs`: start + (max − start)·epoch/epochs (the authors' linear ramp). */
export function epsilonAt(epoch: number, epochs: number, max: number, start: number): number {
  return start + ((max - start) * epoch) / epochs;
}

export interface CellRows {
  normal: Rows;
  reduce: Rows;
}

const both = <T>(f: (c: 'normal' | 'reduce') => T): { normal: T; reduce: T } => ({ normal: f('normal'), reduce: f('reduce') });

/** SDARTS-RS: the noise and the weights clip(s + δ). */
export function randomSmoothing(s: CellRows, eps: number, rng: Rng): { delta: CellRows; weights: CellRows } {
  const delta = both((c) => uniformNoise(s[c], eps, rng));
  return { delta, weights: both((c) => clipRows(addRows(s[c], delta[c]))) };
}

/** Loss at the given edge weights and its gradient with respect to them (rows as given). */
export type LossAndGrad = (weights: CellRows) => { loss: number; grad: CellRows };

export interface PgdResult {
  delta: CellRows;
  weights: CellRows;
  /** loss at s (no perturbation) */
  lossBefore: number;
  /** loss after the random start, then after each step (steps + 1 values) */
  trace: number[];
  /** true when the final loss fell below lossBefore and the perturbation was dropped */
  reverted: boolean;
}

/** SDARTS-ADV: L∞ PGD on δ maximising the loss at clip(s + δ). */
export function pgdPerturbation(s: CellRows, eps: number, steps: number, f: LossAndGrad, rng: Rng | null, loss: (w: CellRows) => number): PgdResult {
  const lossBefore = loss(s);
  let delta = rng ? both((c) => uniformNoise(s[c], eps, rng)) : both((c) => s[c].map((r) => r.map(() => 0)));
  const lr = (2 * eps) / steps;
  const clampEps = (v: number) => Math.min(eps, Math.max(-eps, v));
  const trace: number[] = [];
  for (let t = 0; t < steps; t++) {
    const r = f(both((c) => clipRows(addRows(s[c], delta[c]))));
    trace.push(r.loss);
    delta = both((c) => delta[c].map((row, e) => row.map((v, k) => clampEps(v + lr * Math.sign(r.grad[c][e]![k]!)))));
  }
  const weights = both((c) => clipRows(addRows(s[c], delta[c])));
  const after = loss(weights);
  trace.push(after);
  if (lossBefore > after) {
    return { delta: both((c) => s[c].map((r) => r.map(() => 0))), weights: s, lossBefore, trace, reverted: true };
  }
  return { delta, weights, lossBefore, trace, reverted: false };
}
