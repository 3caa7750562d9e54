/**
 * Plots of a search as Vega-Lite specs (plain data in, spec out; no files), one module per figure
 * family, and `renderSvg` to turn a spec into SVG text.
 *
 * Figures (docs/run-folders.md#report): loss and accuracy curves, the λ_max trajectory with
 * its 5-point local average and the ES / ADA decision points, top-k spectra, α heatmaps, the
 * genotype over epochs, and a cross-run scatter with a least-squares line and Pearson/Spearman.
 *
 * DARTS-ADA: after a rollback, epochs repeat with a higher `iteration`. Series are coloured by
 * iteration; points an iteration later discarded (epochs after the epoch it was rolled back to)
 * are drawn faded.
 */
export type { Rollback, TopLevelSpec } from './style.js';
export { renderSvg } from './render.js';
export * from './curves.js';
export * from './eigenvalues.js';
export * from './spectrum.js';
export * from './alphas.js';
export * from './genotypes.js';
export * from './scatter.js';
export * from './collapse.js';
export * from './s5.js';
