/**
 * Recurrent genotypes (docs/lm.md#genotypes): the discrete cell, as plain data, its checks, its
 * JSON form, derivation from α (DARTS `rnn/model_search.py` genotype()) and the one-hot α of a genotype.
 *
 * `recurrent[i] = [op, source]` is node i+1: it applies `op` on the edge from state `source`
 * (0 … i; 0 is the initial state s0). `concat` lists the states averaged into the output h_t
 * (DARTS: `range(1, 9)`, all eight nodes).
 */
import { GenotypeError, ShapeError } from '../../errors.js';
import { DARTS_RNN_SPACE, RNN_PRIMITIVES, isRnnOpName, numRnnEdges, rnnEdgeIndex, type RnnOpName, type RnnSpace } from './space.js';

export type RnnGene = [op: RnnOpName, from: number];

export interface RnnGenotype {
  recurrent: RnnGene[];
  concat: number[];
}

/** The JSON form (genotypes.jsonl, result.json): the same two fields. */
export interface RnnGenotypeJSON {
  recurrent: Array<[string, number]>;
  concat: number[];
}

/** [1, …, steps]: every intermediate node (DARTS `range(STEPS + 1)[-CONCAT:]`). */
export function defaultRnnConcat(steps: number): number[] {
  return Array.from({ length: steps }, (_, i) => i + 1);
}

export function rnnGenotypeSteps(g: RnnGenotype): number {
  return g.recurrent.length;
}

export function rnnGenotypesEqual(a: RnnGenotype, b: RnnGenotype): boolean {
  return (
    a.recurrent.length === b.recurrent.length &&
    a.recurrent.every(([o, j], i) => o === b.recurrent[i]![0] && j === b.recurrent[i]![1]) &&
    a.concat.length === b.concat.length &&
    a.concat.every((x, i) => x === b.concat[i])
  );
}

const OPS_TEXT = RNN_PRIMITIVES.filter((o) => o !== 'none').join(', ');

/**
 * Checks the structure and returns a fresh copy: at least one gene; each gene a pair of a known op
 * other than `none` (the evaluation cell has no zero op) and a source 0 … i for gene i; concat a
 * non-empty list of distinct states 0 … steps. `where` names the text or field in errors.
 */
export function validateRnnGenotype(value: { recurrent: unknown; concat: unknown }, where = 'recurrent genotype', geneAt?: (i: number) => string): RnnGenotype {
  const { recurrent, concat } = value;
  if (!Array.isArray(recurrent) || recurrent.length === 0) {
    throw new GenotypeError(`${where}: 'recurrent' must be a non-empty list of (op, source) genes`, "write e.g. recurrent=[('sigmoid', 0), ('relu', 1), …]");
  }
  const genes = recurrent.map((gene, i): RnnGene => {
    const at = `${where}: recurrent[${i}] (node ${i + 1})${geneAt ? geneAt(i) : ''}`;
    if (!Array.isArray(gene) || gene.length !== 2) throw new GenotypeError(`${at}: a gene must be a pair (op, source)`, "write e.g. ('tanh', 0)");
    const [op, src] = gene as [unknown, unknown];
    if (!isRnnOpName(op) || op === 'none') {
      throw new GenotypeError(`${at}: unknown recurrent op ${typeof op === 'string' ? `'${op}'` : String(op)}; known: ${OPS_TEXT}`, 'fix the op name');
    }
    if (typeof src !== 'number' || !Number.isInteger(src) || src < 0 || src > i) {
      throw new GenotypeError(`${at}: source ${String(src)} is out of range; node ${i + 1} takes states 0..${i}`, 'state 0 is the initial state, state k ≥ 1 is node k');
    }
    return [op, src];
  });
  const steps = genes.length;
  if (!Array.isArray(concat) || concat.length === 0) {
    throw new GenotypeError(`${where}: 'concat' must be a non-empty list of states`, `use range(1, ${steps + 1})`);
  }
  const seen = new Set<number>();
  for (const x of concat) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > steps) {
      throw new GenotypeError(`${where}: concat entry ${String(x)} is not a state of a ${steps}-node cell (0..${steps})`, `use range(1, ${steps + 1})`);
    }
    if (seen.has(x)) throw new GenotypeError(`${where}: concat lists state ${x} twice`, 'list each state once');
    seen.add(x);
  }
  return { recurrent: genes, concat: [...(concat as number[])] };
}

export function rnnGenotypeToJSON(g: RnnGenotype): RnnGenotypeJSON {
  return { recurrent: g.recurrent.map(([o, j]) => [o, j]), concat: [...g.concat] };
}

/** Read the JSON form (an object or JSON text); errors name the field and the gene. */
export function rnnGenotypeFromJSON(value: unknown, source = 'recurrent genotype'): RnnGenotype {
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch (e) {
      throw new GenotypeError(`${source}: not valid JSON: ${(e as Error).message}`, 'a recurrent genotype JSON looks like {"recurrent": [["sigmoid", 0], …], "concat": [1, 2, …, 8]}');
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new GenotypeError(`${source}: expected an object with recurrent and concat`, 'see rnnGenotypeToJSON for the format');
  }
  const o = obj as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== 'recurrent' && k !== 'concat') throw new GenotypeError(`${source}: unknown field '${k}'`, 'allowed fields: recurrent, concat');
  }
  return validateRnnGenotype({ recurrent: o.recurrent, concat: o.concat }, source);
}

/** Row-wise stable softmax. */
function softmaxRow(row: number[]): number[] {
  const m = Math.max(...row);
  const e = row.map((x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

function checkAlpha(alpha: number[][], space: RnnSpace): void {
  const [rows, cols] = [numRnnEdges(space.steps), space.ops.length];
  if (!Array.isArray(alpha) || alpha.length !== rows) {
    throw new ShapeError(`deriveRnnGenotype: α has ${Array.isArray(alpha) ? alpha.length : 'no'} rows, a ${space.steps}-node cell has ${rows} edges`, `pass α as [${rows}, ${cols}]`);
  }
  alpha.forEach((row, e) => {
    if (!Array.isArray(row) || row.length !== cols) throw new ShapeError(`deriveRnnGenotype: α row ${e} has ${Array.isArray(row) ? row.length : 'no'} entries, the space has ${cols} ops`);
    row.forEach((x, k) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new GenotypeError(`deriveRnnGenotype: α[${e}][${k}] is ${String(x)}`, 'α must be finite; a NaN/Inf α usually means the search diverged');
    });
  });
}

/**
 * The DARTS rule (`rnn/model_search.py` genotype()): W = softmax of each α row; for node i the
 * source is the edge whose strongest op other than `none` is largest (ties: the lower source, as
 * Python's stable sort), and the op is that edge's strongest non-`none` op (ties: the first
 * column). One gene per node; concat = all nodes [1 … steps].
 */
export function deriveRnnGenotype(alpha: number[][], space: RnnSpace = DARTS_RNN_SPACE): RnnGenotype {
  checkAlpha(alpha, space);
  const W = alpha.map(softmaxRow);
  const ops = space.ops;
  const genes: RnnGene[] = [];
  for (let node = 1; node <= space.steps; node++) {
    let bestSrc = -1;
    let bestStrength = -Infinity;
    for (let j = 0; j < node; j++) {
      const row = W[rnnEdgeIndex(node, j)]!;
      let s = -Infinity;
      ops.forEach((op, k) => {
        if (op !== 'none' && row[k]! > s) s = row[k]!;
      });
      if (s > bestStrength) {
        bestStrength = s;
        bestSrc = j;
      }
    }
    const row = W[rnnEdgeIndex(node, bestSrc)]!;
    let k = -1;
    ops.forEach((op, c) => {
      if (op !== 'none' && (k < 0 || row[c]! > row[k]!)) k = c;
    });
    genes.push([ops[k]!, bestSrc]);
  }
  return { recurrent: genes, concat: defaultRnnConcat(space.steps) };
}

/**
 * One-hot α of a genotype ([edges][ops]): 1 at the chosen op of each node's chosen edge, 0
 * elsewhere; the edge weights of the discrete forward of the search model.
 */
export function rnnGenotypeToOneHot(g: RnnGenotype, space: RnnSpace = DARTS_RNN_SPACE): number[][] {
  if (g.recurrent.length !== space.steps) {
    throw new GenotypeError(`recurrent genotype has ${g.recurrent.length} nodes, the space has ${space.steps}`, 'use a genotype derived from this space');
  }
  const rows = Array.from({ length: numRnnEdges(space.steps) }, () => space.ops.map(() => 0));
  g.recurrent.forEach(([op, j], i) => {
    const k = space.ops.indexOf(op);
    if (k < 0) throw new GenotypeError(`recurrent[${i}]: op '${op}' is not in the space [${space.ops.join(', ')}]`, 'use a genotype derived from this space');
    rows[rnnEdgeIndex(i + 1, j)]![k] = 1;
  });
  return rows;
}
