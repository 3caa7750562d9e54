/**
 * RS-ws architecture sampler (Li & Talwalkar 2019, as used by RobustDARTS; docs/methods.md#sampling). Pure,
 * driven by a seeded Rng. Its plug-in, `RsWsPlugin`, is ./rsws.ts.
 *
 * For each cell type (normal, reduce) and each intermediate node i = 0 … steps−1, two
 * distinct predecessors are drawn uniformly (an ordered pair without replacement) from the
 * i + 2 candidates (the two cell inputs and the earlier nodes), and for each chosen edge an
 * op index uniformly from that edge's op list — so `none` (DARTS space, S3) and `noise` (S4)
 * can be drawn, as in the reference.
 *
 * Edges are numbered as in DARTS: node i's incoming edges come after those of nodes < i,
 * edge(i, j) = i(i+3)/2 + j for predecessor j ∈ [0, i+2); a space with `steps` nodes has
 * steps(steps+3)/2 edges (14 for 4 nodes).
 */
import { ConfigError } from '../../errors.js';
import type { Rng } from '../../util/rng.js';
import { edgeIndex, numEdges } from '../../nas/spaces.js';

/** The structure of a search space this sampler needs: per cell type, one op list per edge. */
export interface SearchSpaceLike {
  steps: number;
  normal: string[][];
  reduce: string[][];
}

export interface SampledEdge {
  /** Intermediate node (0-based; node i is state i+2 in DARTS' numbering). */
  node: number;
  /** Predecessor state index (0, 1 = cell inputs; j ≥ 2 = node j−2). */
  from: number;
  /** Global edge index within the cell. */
  edge: number;
  opIndex: number;
  op: string;
}

export interface SampledCell {
  /** One-hot α rows, one per edge (row length = that edge's op count; ragged allowed). */
  alphas: number[][];
  /** The 2·steps chosen edges, in node order, in the order drawn within a node. */
  edges: SampledEdge[];
  /** Genotype-like list of (op, predecessor) pairs, as in DARTS' Genotype.normal. */
  genotype: Array<[string, number]>;
  /** Nodes concatenated for the cell output: [2, …, steps+1]. */
  concat: number[];
}

export interface SampledArchitecture {
  normal: SampledCell;
  reduce: SampledCell;
}

export { edgeIndex, numEdges };

function checkCell(ops: string[][], steps: number, name: string): void {
  const m = numEdges(steps);
  if (!Array.isArray(ops) || ops.length !== m) {
    throw new ConfigError(`search space: the ${name} cell lists ${Array.isArray(ops) ? ops.length : 'no'} edges, expected ${m} for ${steps} nodes`, 'give one op list per edge, edges ordered node by node');
  }
  ops.forEach((list, e) => {
    if (!Array.isArray(list) || list.length === 0) throw new ConfigError(`search space: ${name} edge ${e} has no ops`, 'every edge needs at least one candidate op');
  });
}

function sampleCell(ops: string[][], steps: number, rng: Rng): SampledCell {
  const alphas = ops.map((list) => new Array<number>(list.length).fill(0));
  const edges: SampledEdge[] = [];
  for (let node = 0; node < steps; node++) {
    const cands = node + 2;
    const a = rng.int(cands);
    let b = rng.int(cands - 1);
    if (b >= a) b++;
    for (const from of [a, b]) {
      const edge = edgeIndex(node, from);
      const list = ops[edge]!;
      const opIndex = rng.int(list.length);
      alphas[edge]![opIndex] = 1;
      edges.push({ node, from, edge, opIndex, op: list[opIndex]! });
    }
  }
  return {
    alphas,
    edges,
    genotype: edges.map((e) => [e.op, e.from]),
    concat: Array.from({ length: steps }, (_, i) => i + 2),
  };
}

/** Draw one architecture uniformly (normal cell first, then reduce). */
export function sampleArchitecture(space: SearchSpaceLike, rng: Rng): SampledArchitecture {
  if (!Number.isInteger(space.steps) || space.steps < 1) throw new ConfigError(`search space: steps must be a positive integer, got ${space.steps}`);
  checkCell(space.normal, space.steps, 'normal');
  checkCell(space.reduce, space.steps, 'reduce');
  const normal = sampleCell(space.normal, space.steps, rng);
  const reduce = sampleCell(space.reduce, space.steps, rng);
  return { normal, reduce };
}
