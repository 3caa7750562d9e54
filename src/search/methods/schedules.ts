/**
 * Regularisation schedules of RobustDARTS (docs/search.md#drop-path-and-cutout-ramps, docs/methods.md#r-darts): the rule behind the
 * `RegularizationSchedule` plug-in (./regularization.ts). Pure.
 *
 * - ScheduledDropPath in the search cell: p(e) = p_max · e / (E − 1), e = 0 … E−1, so the
 *   last epoch uses p_max (the reference: `drop_path_prob * epoch / (epochs - 1)`).
 * - Cutout (length 16) is switched on together with DP (only when dp_max > 0, as in the
 *   reference) and its probability ramps the same way from 0 to 1: e / (E − 1).
 * With E = 1 there is no ramp: the single epoch uses 0 (nothing to schedule).
 *
 * The R-DARTS(L2)/(DP) grids are configuration: `grid.l2` and `grid.dropPath` in search/config.ts.
 */
import { ConfigError } from '../../errors.js';

function checkEpoch(epoch: number, epochs: number): void {
  if (!Number.isInteger(epochs) || epochs < 1) throw new ConfigError(`epochs must be a positive integer, got ${epochs}`);
  if (!Number.isInteger(epoch) || epoch < 0 || epoch >= epochs) throw new ConfigError(`epoch must be an integer in [0, ${epochs - 1}], got ${epoch}`);
}

/** Drop-path probability of the search cell at `epoch` (0-based) of `epochs`. */
export function dropPathProb(epoch: number, epochs: number, pMax: number): number {
  checkEpoch(epoch, epochs);
  if (!(pMax >= 0 && pMax < 1)) throw new ConfigError(`drop-path probability must be in [0, 1), got ${pMax}`, 'use a value such as 0.2, 0.4 or 0.6');
  return epochs === 1 ? 0 : (pMax * epoch) / (epochs - 1);
}

/** Cutout probability at `epoch`: e/(E−1) when enabled (the reference enables it iff dp > 0), else 0. */
export function cutoutProb(epoch: number, epochs: number, enabled: boolean): number {
  checkEpoch(epoch, epochs);
  if (!enabled || epochs === 1) return 0;
  return epoch / (epochs - 1);
}

/** Whether the reference turns cutout on for a given drop-path maximum. */
export function cutoutEnabledForDropPath(pMax: number): boolean {
  return pMax > 0;
}
