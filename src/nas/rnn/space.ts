/**
 * The DARTS recurrent search space (docs/lm.md#space; DARTS `rnn/genotypes.py`, `rnn/model_search.py`).
 *
 * A cell has `steps` = 8 intermediate nodes. State 0 is the initial state s0, computed from x_t and
 * h_{t−1}; node i (states 1 … steps) takes one mixed edge from every earlier state 0 … i−1. Edges are
 * numbered node by node, within a node by source: edge(node i, source j) = i(i−1)/2 + j for i ≥ 1,
 * so a cell has steps(steps+1)/2 edges (36 for 8) and α is [36, ops] = [36, 5].
 */
import { ConfigError } from '../../errors.js';

/** The recurrent ops of DARTS, in α's column order (`rnn/genotypes.py` PRIMITIVES). */
export const RNN_PRIMITIVES = ['none', 'tanh', 'relu', 'sigmoid', 'identity'] as const;

export type RnnOpName = (typeof RNN_PRIMITIVES)[number];

/** Intermediate nodes of the DARTS recurrent cell (`STEPS = 8`; the output averages all of them, `CONCAT = 8`). */
export const RNN_STEPS = 8;

const RNN_OP_SET: ReadonlySet<string> = new Set(RNN_PRIMITIVES);

export function isRnnOpName(x: unknown): x is RnnOpName {
  return typeof x === 'string' && RNN_OP_SET.has(x);
}

/** A recurrent space: the node count and the op list shared by every edge (α's columns). */
export interface RnnSpace {
  steps: number;
  ops: readonly RnnOpName[];
}

/** The DARTS recurrent space: 8 nodes, none/tanh/relu/sigmoid/identity on every edge. */
export const DARTS_RNN_SPACE: RnnSpace = { steps: RNN_STEPS, ops: RNN_PRIMITIVES };

/** Edges of a cell with `steps` nodes: 1 + 2 + … + steps. */
export function numRnnEdges(steps: number): number {
  return (steps * (steps + 1)) / 2;
}

/** Edge index of node `node` (1 … steps) from state `source` (0 … node−1). */
export function rnnEdgeIndex(node: number, source: number): number {
  if (!Number.isInteger(node) || node < 1 || !Number.isInteger(source) || source < 0 || source >= node) {
    throw new RangeError(`rnnEdgeIndex: node ${node} has sources 0..${node - 1}, got ${source}`);
  }
  return ((node - 1) * node) / 2 + source;
}

/** α shape [edges, ops] of a space ([36, 5] for DARTS). */
export function rnnAlphaShape(space: RnnSpace = DARTS_RNN_SPACE): [number, number] {
  return [numRnnEdges(space.steps), space.ops.length];
}

/** Checks a space (node count ≥ 1, known ops, no duplicates, an op other than none). */
export function checkRnnSpace(space: RnnSpace, what = 'recurrent space'): RnnSpace {
  if (!Number.isInteger(space.steps) || space.steps < 1) {
    throw new ConfigError(`${what}: steps must be a positive integer, got ${String(space.steps)}`, 'DARTS uses 8 nodes');
  }
  const seen = new Set<string>();
  for (const op of space.ops) {
    if (!isRnnOpName(op)) throw new ConfigError(`${what}: unknown op '${String(op)}'; known: ${RNN_PRIMITIVES.join(', ')}`, 'fix the op name');
    if (seen.has(op)) throw new ConfigError(`${what}: op '${op}' listed twice`, 'list each op once');
    seen.add(op);
  }
  if (!space.ops.some((o) => o !== 'none')) throw new ConfigError(`${what}: needs an op other than 'none'`, `use ${RNN_PRIMITIVES.join(', ')}`);
  return space;
}
