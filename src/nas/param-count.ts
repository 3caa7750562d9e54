/**
 * Analytic parameter counts, derived by hand from the op compositions in docs/spaces.md (#operations, #supernet)
 * (no tensors). Used to check the supernet against the reference (S1 / CIFAR-10 / 8 cells /
 * C=16 → 405,146, the "param size = 0.405146MB" of the official logs) and to size spaces.
 *
 * Search supernet conventions: all convs bias-free; every BN inside cells is affine=False
 * (0 parameters), including the BN appended to pooling ops; the stem BN is affine=True; every op
 * of every edge has its own weights; α is not counted (it is not a module parameter).
 */
import { ConfigError } from '../errors.js';
import type { PrimitiveName } from './primitives.js';
import { macroLayout, resolveNetworkSize, type NetworkSize } from './macro.js';
import { edgeStride, type SearchSpace } from './spaces.js';

/** Parameters of a BatchNorm2d over C channels. */
function bn(C: number, affine: boolean): number {
  return affine ? 2 * C : 0;
}

/** FactorizedReduce(Cin → Cout): two 1×1 convs Cin → Cout/2 (no bias) + BN(Cout). */
export function factorizedReduceParameters(Cin: number, Cout: number, affine = false): number {
  if (Cout % 2 !== 0) {
    throw new ConfigError(`FactorizedReduce needs an even output channel count, got ${Cout}`, 'use an even number of initial channels');
  }
  return 2 * Cin * (Cout / 2) + bn(Cout, affine);
}

/** ReLUConvBN(Cin → Cout, k×k): conv (no bias) + BN. */
export function reluConvBnParameters(Cin: number, Cout: number, kernel: number, affine = false): number {
  return Cin * Cout * kernel * kernel + bn(Cout, affine);
}

/**
 * Parameters of one candidate op on C channels (in = out) with the given stride.
 * `affine` = BN affine (false in the search model, true in the evaluation model); pooling ops
 * count 0 either way (search: BN affine=False; evaluation: no BN).
 *
 *   none, noise, max_pool_3x3, avg_pool_3x3      0
 *   skip_connect                                  stride 1: 0; stride 2: FactorizedReduce(C, C) = C²  (+2C)
 *   sep_conv_k×k  (two [depthwise k×k, 1×1] blocks) 2·(C·k² + C²)                                  (+4C)
 *   dil_conv_k×k  (one [depthwise k×k, 1×1] block)  C·k² + C²                                      (+2C)
 *   conv_7x1_1x7  (1×7 then 7×1 full convs)         14·C²                                          (+2C)
 */
export function opParameters(op: PrimitiveName, C: number, stride: 1 | 2 | number, affine = false): number {
  const sep = (k: number) => 2 * (C * k * k + C * C) + 2 * bn(C, affine);
  const dil = (k: number) => C * k * k + C * C + bn(C, affine);
  switch (op) {
    case 'none':
    case 'noise':
    case 'max_pool_3x3':
    case 'avg_pool_3x3':
      return 0;
    case 'skip_connect':
      return stride === 1 ? 0 : factorizedReduceParameters(C, C, affine);
    case 'sep_conv_3x3':
      return sep(3);
    case 'sep_conv_5x5':
      return sep(5);
    case 'sep_conv_7x7':
      return sep(7);
    case 'dil_conv_3x3':
      return dil(3);
    case 'dil_conv_5x5':
      return dil(5);
    case 'conv_7x1_1x7':
      return 14 * C * C + bn(C, affine);
  }
}

export interface SearchParameterBreakdown {
  stem: number;
  /** Per cell: preprocessing + all mixed edges. */
  cells: Array<{ index: number; reduction: boolean; C: number; preprocess: number; edges: number }>;
  classifier: number;
  total: number;
}

/** Per-part parameter count of the search supernet (docs/spaces.md#supernet). */
export function searchParameterBreakdown(space: SearchSpace, size: NetworkSize): SearchParameterBreakdown {
  const { C, layers, numClasses, inChannels, stemMultiplier } = resolveNetworkSize(size, 'parameter count');
  // the cell output concatenates all intermediate nodes
  const macro = macroLayout({ C, layers, stemMultiplier, multiplier: space.steps });
  const stem = reluConvBnParameters(inChannels, macro.stemChannels, 3, true); // conv 3×3 + BN(affine=True); no ReLU, same count
  const cells = macro.cells.map((c) => {
    const preprocess =
      (c.reductionPrev ? factorizedReduceParameters(c.Cpp, c.C) : reluConvBnParameters(c.Cpp, c.C, 1)) + reluConvBnParameters(c.Cp, c.C, 1);
    let edges = 0;
    (c.reduction ? space.reduce : space.normal).forEach((list, e) => {
      for (const op of list) edges += opParameters(op, c.C, edgeStride(e, c.reduction));
    });
    return { index: c.index, reduction: c.reduction, C: c.C, preprocess, edges };
  });
  const classifier = macro.outChannels * numClasses + numClasses;
  const total = stem + classifier + cells.reduce((a, c) => a + c.preprocess + c.edges, 0);
  return { stem, cells, classifier, total };
}

/** Total parameters of the search supernet (α excluded). S1, CIFAR-10, 8 cells, C=16 → 405,146. */
export function countSearchParameters(space: SearchSpace, size: NetworkSize): number {
  return searchParameterBreakdown(space, size).total;
}
