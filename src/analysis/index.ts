/** Curvature analysis and the remedies built on it: eigenvalues, Lanczos, DARTS-ES, DARTS-ADA, schedules, RS-ws sampling, statistics. */
export * from './eigen.js';
export * from './lanczos.js';
export * from './trace.js';
export * from './hessian-file.js';
export * from './early-stop.js';
export * from './ada.js';
export * from './regularization.js';
export * from './rsws-sampler.js';
export * from './stats.js';
