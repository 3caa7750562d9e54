/**
 * Genotype ↔ α (docs/spaces.md#derivation): the discrete cell derived from the architecture weights, and
 * the one-hot α of a genotype (the supernet's discrete forward).
 */
import { GenotypeError, ShapeError } from '../errors.js';
import type { PrimitiveName } from './primitives.js';
import { edgeIndex, geneEdge, nodeSources, numEdges, type CellType, type SearchSpace } from './spaces.js';
import { assertGenotypeFitsSpace, defaultConcat, type Gene, type Genotype } from './genotype.js';

/** Row-wise numerically stable softmax. */
export function softmaxRows(alpha: number[][]): number[][] {
  return alpha.map((row) => {
    const m = Math.max(...row);
    const e = row.map((x) => Math.exp(x - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  });
}

function checkAlpha(alpha: number[][], ops: PrimitiveName[][], cell: CellType, spaceName: string): void {
  if (!Array.isArray(alpha) || alpha.length !== ops.length) {
    throw new ShapeError(
      `deriveGenotype: alpha_${cell} has ${Array.isArray(alpha) ? alpha.length : 'no'} rows, space '${spaceName}' has ${ops.length} edges`,
      'pass one α row per edge of the space, in edge order',
    );
  }
  alpha.forEach((row, e) => {
    const want = ops[e]!.length;
    if (!Array.isArray(row) || row.length !== want) {
      throw new ShapeError(
        `deriveGenotype: alpha_${cell} row ${e} has ${Array.isArray(row) ? row.length : 'no'} entries, edge ${e} of space '${spaceName}' has ${want} ops`,
        'α must have the layout of alphaShape(space)',
      );
    }
    row.forEach((x, k) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) {
        throw new GenotypeError(
          `deriveGenotype: alpha_${cell}[${e}][${k}] is ${String(x)}`,
          'α must be finite; a NaN/Inf α usually means the search diverged',
        );
      }
    });
  });
}

/**
 * Genes of one cell type from its α (rows = edges, columns = that edge's ops).
 *
 * Reference quirk (RobustDARTS `model_search.py`, `_parse`): it finds the column of `none`
 * with `PRIMITIVES[x].index('none')`, where x is the edge's *local* index within its node
 * instead of the global index `start + x`, and falls back to "all ops count" for the whole node
 * when that local-indexed list has no `none`. For the shipped spaces this never changes the
 * result: the spaces containing `none` (darts, s3) have the same op list on every edge, and
 * s1/s2/s4 have no `none` anywhere. Here the global edge index is used, which is what the code
 * means and what matters for user spaces with per-edge lists.
 */
export function deriveCellGenes(alpha: number[][], ops: PrimitiveName[][], steps: number): Gene[] {
  const w = softmaxRows(alpha);
  const genes: Gene[] = [];
  for (let node = 0; node < steps; node++) {
    const strength: Array<{ source: number; edge: number; s: number }> = [];
    for (let j = 0; j < nodeSources(node); j++) {
      const e = edgeIndex(node, j);
      let s = -Infinity;
      ops[e]!.forEach((op, k) => {
        if (op !== 'none' && w[e]![k]! > s) s = w[e]![k]!;
      });
      strength.push({ source: j, edge: e, s });
    }
    // Strongest first; ties keep the lower edge index (stable sort, like Python's sorted).
    const top = [...strength].sort((a, b) => b.s - a.s).slice(0, 2);
    for (const { source, edge, s } of top) {
      if (s === -Infinity) {
        throw new GenotypeError(
          `deriveGenotype: node ${node} has no edge with an op other than 'none'`,
          'every edge needs at least one op other than none',
        );
      }
      let best = -1;
      ops[edge]!.forEach((op, k) => {
        if (op !== 'none' && (best < 0 || w[edge]![k]! > w[edge]![best]!)) best = k;
      });
      genes.push([ops[edge]![best]!, source]);
    }
  }
  return genes;
}

/**
 * Discrete genotype from α (docs/spaces.md#derivation): softmax per edge; per node keep the 2 edges with the
 * largest non-`none` weight (strongest first, ties → lower edge index); on each, the argmax
 * non-`none` op (ties → lowest column). concat = [2 … steps+1].
 */
export function deriveGenotype(alphaNormal: number[][], alphaReduce: number[][], space: SearchSpace): Genotype {
  checkAlpha(alphaNormal, space.normal, 'normal', space.name);
  checkAlpha(alphaReduce, space.reduce, 'reduce', space.name);
  return {
    normal: deriveCellGenes(alphaNormal, space.normal, space.steps),
    normalConcat: defaultConcat(space.steps),
    reduce: deriveCellGenes(alphaReduce, space.reduce, space.steps),
    reduceConcat: defaultConcat(space.steps),
  };
}

/**
 * One-hot α for a genotype in `space` (layout of alphaShape(space)): 1 at the chosen op of each
 * chosen edge, 0 everywhere else (unchosen edges are all-zero rows). Fed to the supernet in
 * discrete mode to measure the accuracy drop after discretisation.
 */
export function genotypeToOneHot(g: Genotype, space: SearchSpace): { normal: number[][]; reduce: number[][] } {
  for (const cell of ['normal', 'reduce'] as const) {
    if (space[cell].length !== numEdges(space.steps)) {
      throw new ShapeError(`space '${space.name}' has ${space[cell].length} ${cell} edges, expected ${numEdges(space.steps)}`, 'validate the space with spaceFromObject');
    }
  }
  assertGenotypeFitsSpace(g, space);
  const make = (cell: CellType): number[][] => {
    const rows = space[cell].map((ops) => ops.map(() => 0));
    g[cell].forEach(([op, j], i) => {
      const e = geneEdge(i, j);
      rows[e]![space[cell][e]!.indexOf(op)] = 1;
    });
    return rows;
  };
  return { normal: make('normal'), reduce: make('reduce') };
}
