/**
 * The S6 space (docs/disparity.md#space): AutoDispNet-C's three cell types for disparity
 * estimation (Saikia et al., ICCV 2019; RobustDARTS §3.7 / §10.2) and their genotypes.
 *
 * - normal and reduction cells (the encoder) are DARTS cells: two inputs, `steps` nodes, node i
 *   fed by every earlier state (2 + i edges), two kept per node when a genotype is derived;
 * - the upsampling cell (the decoder) has four inputs (AutoDispNet `DecoderCell`): the two
 *   previous cells' outputs (each upsampled ×2 by a transposed convolution), the previous
 *   disparity prediction (bilinearly upsampled) and the encoder feature of the same scale (the
 *   skip input). Its first node takes all four inputs, one op each (AutoDispNet's genotype keeps
 *   four genes for it); node i ≥ 1 is fed by every earlier state (4 + i edges) and keeps two.
 *
 * Candidate ops: the DARTS eight on every edge (AutoDispNet's op tables are DARTS' plus a plain
 * conv 3×3 / 1×1; those two are left out here so the genotypes read as DARTS genotypes and every
 * op is one the project tests against the DARTS reference).
 *
 * Genotype repr (as AutoDispNet's namedtuple, with an `upsample` field):
 * `DispGenotype(normal=[…], normal_concat=range(2, 5), reduce=[…], reduce_concat=range(2, 5), upsample=[…], upsample_concat=range(4, 7))`.
 */
import { GenotypeError, ShapeError } from '../../errors.js';
import { softmaxRows, deriveCellGenes } from '../derive.js';
import { isPrimitiveName, knownOpsText, type PrimitiveName } from '../primitives.js';
import { numEdges } from '../spaces.js';
import type { Gene } from '../genotype.js';

export const S6_OPS: PrimitiveName[] = ['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5'];

export type DispCellType = 'normal' | 'reduce' | 'upsample';
export const DISP_CELL_TYPES: DispCellType[] = ['normal', 'reduce', 'upsample'];

/** Inputs of a cell type: 2 for the encoder cells, 4 for the upsampling cell. */
export function cellInputs(cell: DispCellType): number {
  return cell === 'upsample' ? 4 : 2;
}

/** Mixed edges of a cell with `inputs` inputs and `steps` nodes: Σ_i (inputs + i). */
export function cellEdges(inputs: number, steps: number): number {
  return inputs === 2 ? numEdges(steps) : steps * inputs + (steps * (steps - 1)) / 2;
}

/** First edge of node `node` in a cell with `inputs` inputs. */
export function nodeOffset(inputs: number, node: number): number {
  return node * inputs + (node * (node - 1)) / 2;
}

export interface DispGenotype {
  normal: Gene[];
  normalConcat: number[];
  reduce: Gene[];
  reduceConcat: number[];
  upsample: Gene[];
  upsampleConcat: number[];
}

/** Genes per cell: 2 per node in the encoder cells; 4 + 2·(steps − 1) in the upsampling cell. */
export function genesPerCell(cell: DispCellType, steps: number): number {
  return cell === 'upsample' ? 4 + 2 * (steps - 1) : 2 * steps;
}

/** The node a gene feeds and the edge it stands for. */
export function geneEdgeOf(cell: DispCellType, gene: number, source: number): { node: number; edge: number } {
  const inputs = cellInputs(cell);
  if (cell === 'upsample') {
    const node = gene < 4 ? 0 : 1 + Math.floor((gene - 4) / 2);
    return { node, edge: nodeOffset(inputs, node) + source };
  }
  const node = Math.floor(gene / 2);
  return { node, edge: nodeOffset(inputs, node) + source };
}

function bestOp(row: number[], ops: PrimitiveName[]): number {
  let best = -1;
  ops.forEach((op, k) => {
    if (op !== 'none' && (best < 0 || row[k]! > row[best]!)) best = k;
  });
  return best;
}

/**
 * The upsampling cell's genes from its α: node 0 keeps its four input edges, each with its
 * strongest op other than `none`; node i ≥ 1 keeps the two edges with the largest non-`none`
 * weight (ties → lower edge), as DARTS derives its cells.
 */
export function deriveUpsampleGenes(alpha: number[][], steps: number, ops: PrimitiveName[] = S6_OPS): Gene[] {
  const w = softmaxRows(alpha);
  const genes: Gene[] = [];
  for (let s = 0; s < 4; s++) genes.push([ops[bestOp(w[s]!, ops)]!, s]);
  for (let node = 1; node < steps; node++) {
    const off = nodeOffset(4, node);
    const cand: Array<{ source: number; s: number }> = [];
    for (let j = 0; j < 4 + node; j++) {
      const row = w[off + j]!;
      cand.push({ source: j, s: row[bestOp(row, ops)]! });
    }
    for (const { source } of [...cand].sort((a, b) => b.s - a.s).slice(0, 2)) genes.push([ops[bestOp(w[off + source]!, ops)]!, source]);
  }
  return genes;
}

const concat = (inputs: number, steps: number): number[] => Array.from({ length: steps }, (_, i) => inputs + i);

/** The discrete genotype of three α matrices (rows = edges, columns = S6_OPS). */
export function deriveDispGenotype(alpha: { normal: number[][]; reduce: number[][]; upsample: number[][] }, steps: number): DispGenotype {
  for (const cell of DISP_CELL_TYPES) {
    const want = cellEdges(cellInputs(cell), steps);
    const rows = alpha[cell];
    if (rows.length !== want || rows.some((r) => r.length !== S6_OPS.length || r.some((x) => !Number.isFinite(x)))) {
      throw new ShapeError(`deriveDispGenotype: alpha_${cell} must be ${want} × ${S6_OPS.length} finite values`, 'a NaN α usually means the search diverged');
    }
  }
  const edgeOps = (cell: DispCellType) => Array.from({ length: cellEdges(cellInputs(cell), steps) }, () => S6_OPS);
  return {
    normal: deriveCellGenes(alpha.normal, edgeOps('normal'), steps),
    normalConcat: concat(2, steps),
    reduce: deriveCellGenes(alpha.reduce, edgeOps('reduce'), steps),
    reduceConcat: concat(2, steps),
    upsample: deriveUpsampleGenes(alpha.upsample, steps),
    upsampleConcat: concat(4, steps),
  };
}

/** Nodes of a genotype (checked: all three cells agree). */
export function dispGenotypeSteps(g: DispGenotype): number {
  const steps = g.normal.length / 2;
  if (!Number.isInteger(steps) || steps < 1 || g.reduce.length !== 2 * steps || g.upsample.length !== genesPerCell('upsample', steps)) {
    throw new GenotypeError(
      `a disparity genotype needs 2·steps normal and reduce genes and 4 + 2·(steps − 1) upsample genes (got ${g.normal.length}, ${g.reduce.length}, ${g.upsample.length})`,
    );
  }
  return steps;
}

/** Check every gene names an S6 op and an existing source; returns the steps. */
export function validateDispGenotype(g: DispGenotype, source = 'genotype'): number {
  const steps = dispGenotypeSteps(g);
  for (const cell of DISP_CELL_TYPES) {
    g[cell].forEach(([op, j], i) => {
      if (!isPrimitiveName(op) || !S6_OPS.includes(op) || op === 'none') throw new GenotypeError(`${source}: ${cell}[${i}] op '${String(op)}' is not an S6 op (${S6_OPS.filter((o) => o !== 'none').join(', ')}; known: ${knownOpsText()})`);
      const { node } = geneEdgeOf(cell, i, j);
      const sources = cellInputs(cell) + node;
      if (!Number.isInteger(j) || j < 0 || j >= sources) throw new GenotypeError(`${source}: ${cell}[${i}] takes input ${j}, node ${node} has inputs 0…${sources - 1}`);
      if (cell === 'upsample' && i < 4 && j !== i) throw new GenotypeError(`${source}: upsample[${i}] must read input ${i} (the first node takes each of the four inputs once)`);
    });
  }
  return steps;
}

function formatGenes(genes: Gene[]): string {
  return `[${genes.map(([o, j]) => `('${o}', ${j})`).join(', ')}]`;
}
const formatRange = (c: number[]): string => `range(${c[0]}, ${c[0]! + c.length})`;

/** The Python repr of AutoDispNet's genotype namedtuple (normal, reduce, upsample). */
export function formatDispGenotypeRepr(g: DispGenotype): string {
  return (
    `DispGenotype(normal=${formatGenes(g.normal)}, normal_concat=${formatRange(g.normalConcat)}, ` +
    `reduce=${formatGenes(g.reduce)}, reduce_concat=${formatRange(g.reduceConcat)}, ` +
    `upsample=${formatGenes(g.upsample)}, upsample_concat=${formatRange(g.upsampleConcat)})`
  );
}

/** Parse the repr (what formatDispGenotypeRepr writes; whitespace and quotes free). */
export function parseDispGenotypeRepr(text: string, source = 'genotype'): DispGenotype {
  const m = /^\s*DispGenotype\s*\((.*)\)\s*$/s.exec(text);
  if (!m) throw new GenotypeError(`${source}: not a DispGenotype(...) repr`, "it looks like DispGenotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 5), reduce=[…], …, upsample=[…], upsample_concat=range(4, 7))");
  const field = (name: string): Gene[] => {
    const f = new RegExp(`\\b${name}\\s*=\\s*\\[([^\\]]*)\\]`).exec(m[1]!);
    if (!f) throw new GenotypeError(`${source}: field ${name} is missing`);
    const genes: Gene[] = [];
    for (const g of f[1]!.matchAll(/\(\s*['"]([a-z0-9_]+)['"]\s*,\s*(\d+)\s*\)/g)) genes.push([g[1] as PrimitiveName, Number(g[2])]);
    return genes;
  };
  const normal = field('normal');
  const steps = normal.length / 2;
  const g: DispGenotype = { normal, normalConcat: concat(2, steps), reduce: field('reduce'), reduceConcat: concat(2, steps), upsample: field('upsample'), upsampleConcat: concat(4, steps) };
  validateDispGenotype(g, source);
  return g;
}

export interface DispGenotypeJSON {
  normal: Gene[];
  normal_concat: number[];
  reduce: Gene[];
  reduce_concat: number[];
  upsample: Gene[];
  upsample_concat: number[];
}

export function dispGenotypeToJSON(g: DispGenotype): DispGenotypeJSON {
  return { normal: g.normal, normal_concat: g.normalConcat, reduce: g.reduce, reduce_concat: g.reduceConcat, upsample: g.upsample, upsample_concat: g.upsampleConcat };
}

export function dispGenotypeFromJSON(v: unknown, source = 'genotype'): DispGenotype {
  const o = v as Partial<DispGenotypeJSON> | null;
  if (!o || !Array.isArray(o.normal) || !Array.isArray(o.reduce) || !Array.isArray(o.upsample)) throw new GenotypeError(`${source}: a disparity genotype needs normal, reduce and upsample gene lists`);
  const steps = o.normal.length / 2;
  const g: DispGenotype = {
    normal: o.normal,
    normalConcat: o.normal_concat ?? concat(2, steps),
    reduce: o.reduce,
    reduceConcat: o.reduce_concat ?? concat(2, steps),
    upsample: o.upsample,
    upsampleConcat: o.upsample_concat ?? concat(4, steps),
  };
  validateDispGenotype(g, source);
  return g;
}

/** One-hot α of a genotype (the supernet's discrete forward), per cell type. */
export function dispGenotypeToOneHot(g: DispGenotype): { normal: number[][]; reduce: number[][]; upsample: number[][] } {
  const steps = validateDispGenotype(g);
  const make = (cell: DispCellType): number[][] => {
    const rows = Array.from({ length: cellEdges(cellInputs(cell), steps) }, () => S6_OPS.map(() => 0));
    g[cell].forEach(([op, j], i) => (rows[geneEdgeOf(cell, i, j).edge]![S6_OPS.indexOf(op)] = 1));
    return rows;
  };
  return { normal: make('normal'), reduce: make('reduce'), upsample: make('upsample') };
}
