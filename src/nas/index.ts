// Public surface of the nas layer. Each module adds its own export line.
export * from './primitives.js';
export * from './spaces.js';
export {
  assertGenotypeFitsSpace,
  defaultConcat,
  genotypeFitsSpace,
  genotypeSpaceProblems,
  genotypeSteps,
  genotypesEqual,
  type Gene,
  type Genotype,
} from './genotype.js';
export * from './derive.js';
export * from './genotype-json.js';
export * from './repr.js';
export * from './published.js';
export * from './diagram.js';
export * from './macro.js';
export * from './param-count.js';
export * from './ops.js';
export * from './drop-path.js';
export * from './alpha.js';
export * from './supernet.js';
export * from './eval-network.js';
