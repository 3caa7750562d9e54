/**
 * Genotype: the discrete cell chosen by a search, as plain data (docs/spaces.md#genotypes).
 *
 * For each cell type: two genes per intermediate node, gene = (op name, local source index j)
 * with j = 0, 1 the cell inputs c_{k-2}, c_{k-1} and j ≥ 2 intermediate node j−2; plus the
 * list of states concatenated into the cell output (concat, [2, 3, 4, 5] for 4 nodes).
 *
 * This file holds the type and its checks (structure, fit to a space). The other forms live
 * beside it: derivation from α and one-hot α (`derive.ts`), the JSON form (`genotype-json.ts`,
 * used in genotypes.jsonl and result.json) and the DARTS Python repr (`repr.ts`, the form of the
 * reference code, its logs and published cells).
 */
import { GenotypeError } from '../errors.js';
import { isPrimitiveName, knownOpsText, type PrimitiveName } from './primitives.js';
import { edgeIndex, geneNode, nodeSources, sourceName, type CellType, type SearchSpace } from './spaces.js';

export type Gene = [PrimitiveName, number];

export interface Genotype {
  normal: Gene[];
  normalConcat: number[];
  reduce: Gene[];
  reduceConcat: number[];
}

/** [2, 3, …, steps+1]: all intermediate nodes. */
export function defaultConcat(steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => i + 2);
}

/** Number of intermediate nodes of a genotype (two genes per node). */
export function genotypeSteps(g: Genotype): number {
  return g.normal.length / 2;
}

/** Structural equality (genes in order, concat lists). */
export function genotypesEqual(a: Genotype, b: Genotype): boolean {
  const genes = (x: Gene[], y: Gene[]) => x.length === y.length && x.every(([o, j], i) => o === y[i]![0] && j === y[i]![1]);
  const nums = (x: number[], y: number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return genes(a.normal, b.normal) && genes(a.reduce, b.reduce) && nums(a.normalConcat, b.normalConcat) && nums(a.reduceConcat, b.reduceConcat);
}

// ---------------------------------------------------------------------------------------------
// Structural checks shared by the JSON and repr readers

/** Names the field (or gene) at fault in an error message. */
export type Locate = (what: string) => string;

/** A cell's gene list: pairs [op, source], two per node, known ops, sources in range. */
export function validateGenes(value: unknown, cell: CellType, where: Locate, geneLoc?: (i: number) => string): Gene[] {
  if (!Array.isArray(value)) throw new GenotypeError(`${where(cell)}: expected a list of genes`, 'write genes as [op, source] pairs');
  if (value.length === 0 || value.length % 2 !== 0) {
    throw new GenotypeError(
      `${where(cell)}: has ${value.length} genes; a cell needs two genes per intermediate node (an even, non-zero count)`,
      'give exactly two (op, source) genes for each intermediate node',
    );
  }
  return value.map((gene, i): Gene => {
    const node = geneNode(i);
    const at = `${where(`${cell}[${i}]`)} (node ${node})${geneLoc ? geneLoc(i) : ''}`;
    if (!Array.isArray(gene) || gene.length !== 2) throw new GenotypeError(`${at}: a gene must be a pair [op, source]`, 'write e.g. ["sep_conv_3x3", 0]');
    const [op, src] = gene as [unknown, unknown];
    if (!isPrimitiveName(op)) {
      throw new GenotypeError(`${at}: unknown op ${typeof op === 'string' ? `'${op}'` : String(op)}; known ops: ${knownOpsText()}`, 'fix the op name');
    }
    if (typeof src !== 'number' || !Number.isInteger(src) || src < 0 || src >= nodeSources(node)) {
      throw new GenotypeError(
        `${at}: source ${String(src)} is out of range; node ${node} can take inputs 0, 1 and nodes before it (sources 0..${node + 1})`,
        'sources are 0, 1 for the cell inputs and j ≥ 2 for intermediate node j−2',
      );
    }
    return [op, src];
  });
}

/** A concat list: distinct states of a `steps`-node cell. */
export function validateConcat(value: unknown, field: string, steps: number, where: Locate): number[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new GenotypeError(`${where(field)}: expected a non-empty list of state indices`, `use [${defaultConcat(steps).join(', ')}]`);
  }
  const seen = new Set<number>();
  for (const x of value) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > steps + 1) {
      throw new GenotypeError(`${where(field)}: ${String(x)} is not a state of a ${steps}-node cell (0..${steps + 1})`, `use [${defaultConcat(steps).join(', ')}]`);
    }
    if (seen.has(x)) throw new GenotypeError(`${where(field)}: state ${x} listed twice`, 'list each state once');
    seen.add(x);
  }
  return [...(value as number[])];
}

/** Both cells have the same node count; returns it. */
export function checkSameSteps(normal: Gene[], reduce: Gene[], where: Locate): number {
  if (normal.length !== reduce.length) {
    throw new GenotypeError(
      `${where('reduce')}: has ${reduce.length / 2} nodes but normal has ${normal.length / 2}`,
      'both cells of a genotype must have the same number of intermediate nodes',
    );
  }
  return normal.length / 2;
}

// ---------------------------------------------------------------------------------------------
// Genotype vs space

/**
 * Reasons a genotype could not have been derived from `space` (empty if it fits): node count,
 * ops not allowed on their edge, and a node taking the same source twice (one edge, two ops).
 */
export function genotypeSpaceProblems(g: Genotype, space: SearchSpace): string[] {
  const problems: string[] = [];
  const steps = genotypeSteps(g);
  if (g.normal.length !== g.reduce.length || steps !== space.steps) {
    problems.push(`genotype has ${g.normal.length / 2}/${g.reduce.length / 2} nodes (normal/reduce), space '${space.name}' has ${space.steps}`);
    return problems;
  }
  for (const cell of ['normal', 'reduce'] as const) {
    g[cell].forEach(([op, j], i) => {
      const node = geneNode(i);
      if (j < 0 || j >= nodeSources(node)) {
        problems.push(`${cell}[${i}] (node ${node}): source ${j} out of range 0..${node + 1}`);
        return;
      }
      const e = edgeIndex(node, j);
      const allowed = space[cell][e]!;
      if (!allowed.includes(op)) {
        problems.push(`${cell}[${i}] (node ${node} <- ${sourceName(j)}, edge ${e}): op '${op}' is not in this edge's list [${allowed.join(', ')}]`);
      }
      if (i % 2 === 1 && g[cell][i - 1]![1] === j) {
        problems.push(`${cell} node ${node}: both genes take source ${j}`);
      }
    });
  }
  return problems;
}

/** True if every gene's op is allowed on its edge of `space` (and the node counts agree). */
export function genotypeFitsSpace(g: Genotype, space: SearchSpace): boolean {
  return genotypeSpaceProblems(g, space).length === 0;
}

/** Throw a GenotypeError listing the problems if the genotype does not fit the space. */
export function assertGenotypeFitsSpace(g: Genotype, space: SearchSpace): void {
  const problems = genotypeSpaceProblems(g, space);
  if (problems.length > 0) {
    throw new GenotypeError(
      `genotype does not fit search space '${space.name}': ${problems.slice(0, 3).join('; ')}` +
        (problems.length > 3 ? `; and ${problems.length - 3} more` : ''),
      'use a genotype derived from this space, or pick the space it came from',
    );
  }
}
