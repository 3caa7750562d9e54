/** Run reports: reading run folders, the per-run HTML report, and multi-run comparisons. */
export * from './run.js';
export * from './series.js';
export * from './build.js';
export * from './compare.js';
export { escapeHtml, inlineSvg } from './html.js';
