/** Run reports: the per-run HTML report, and multi-run comparisons. */
export * from './series.js';
export * from './build.js';
export * from './compare.js';
export { escapeHtml, inlineSvg } from './html.js';
