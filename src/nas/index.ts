// Public surface of the nas layer. Each module adds its own export line.
export * from './primitives.js';
export * from './spaces.js';
export * from './genotype.js';
export * from './published.js';
export * from './diagram.js';
export * from './param-count.js';
export * from './ops.js';
export * from './supernet.js';
export * from './eval-network.js';
