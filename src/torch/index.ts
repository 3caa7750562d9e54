/**
 * The `torch` layer: libtorch tensors, autograd, functional ops, modules and optimisers for
 * TypeScript. It knows nothing of architecture search and can be used on its own.
 */
export * from './tensor.js';
export { tidy, keep, liveTensors, disposeAll } from './scopes.js';
export * from './factories.js';
export * from './functions.js';
export * from './autograd.js';
export * as F from './functional.js';
export * from './runtime.js';
export * from './nn/module.js';
export * from './nn/layers.js';
export * from './nn/containers.js';
export * from './optim/sgd.js';
export * from './optim/adam.js';
export * from './optim/schedule.js';
export * from './safetensors.js';
