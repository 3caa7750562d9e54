/** Pure analysis: eigenvalues, Lanczos, eigenvalue traces, statistics (no files, no training). */
export * from './eigen.js';
export * from './lanczos.js';
export * from './trace.js';
export * from './stats.js';
