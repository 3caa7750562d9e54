/** Run reports from parsed runs: the per-run HTML report, multi-run comparisons, the cross-run analysis. */
export type * from './records.js';
export * from './series.js';
export * from './build.js';
export * from './compare.js';
export * from './analyze.js';
export { escapeHtml, inlineSvg } from './html.js';
