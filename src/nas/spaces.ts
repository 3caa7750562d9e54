/**
 * Search spaces: which candidate ops sit on which edge of the cell DAG (docs/spaces.md#the-cell, docs/spaces.md#shipped-spaces).
 *
 * A space is plain data: per cell type, one op list per edge, in the edge order of docs/spaces.md#edge-order
 * (node 0: edges 0–1 from inputs 0,1; node 1: edges 2–4 from inputs 0,1 and node 0; …).
 * The order inside an edge's list is the α column order for that edge.
 *
 * α layout (the choice made here): per cell type, α is one row per edge, and row e has as many
 * entries as edge e has ops. For every shipped space all edges have the same op count, so α is
 * the usual rectangular [14, |O|] matrix (`alphaShape(space).normal.uniform === true`). A user
 * space may give edges different op counts; α is then ragged (no padding columns, so softmax
 * and the Hessian never see phantom ops), and the supernet must keep one row per edge.
 *
 * User spaces come from a JSON/YAML file or an object (see `spaceFromObject` for the format).
 */
import { readFileSync, existsSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { isPrimitiveName, knownOpsText, type PrimitiveName } from './primitives.js';

export type CellType = 'normal' | 'reduce';

export interface SearchSpace {
  /** Canonical (lower-case for shipped spaces) name. */
  name: string;
  /** Number of intermediate nodes per cell (4 in every space of the paper). */
  steps: number;
  /** One op list per edge, edges in the order of docs/spaces.md#edge-order. */
  normal: PrimitiveName[][];
  /** Same for the reduction cell. */
  reduce: PrimitiveName[][];
  /** Optional one-line description. */
  description?: string;
}

// ---------------------------------------------------------------------------------------------
// Edge indexing

/** Number of edges of a cell with `steps` intermediate nodes: 2 + 3 + … + (steps+1). */
export function numEdges(steps = 4): number {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new ConfigError(`steps must be a positive integer, got ${String(steps)}`, 'use steps: 4 as in the paper');
  }
  return (steps * (steps + 3)) / 2;
}

/**
 * Global edge index of the edge into intermediate node `node` (0-based) from local source
 * `source` (0, 1 = cell inputs c_{k-2}, c_{k-1}; j ≥ 2 = intermediate node j−2).
 */
export function edgeIndex(node: number, source: number): number {
  if (!Number.isInteger(node) || node < 0) throw new RangeError(`edgeIndex: node must be an integer >= 0, got ${node}`);
  if (!Number.isInteger(source) || source < 0 || source >= nodeSources(node)) {
    throw new RangeError(`edgeIndex: node ${node} has sources 0..${node + 1}, got ${source}`);
  }
  return (node * (node + 3)) / 2 + source;
}

/** Inverse of `edgeIndex`. */
export function edgeSource(edge: number): { node: number; source: number } {
  if (!Number.isInteger(edge) || edge < 0) throw new RangeError(`edgeSource: edge must be an integer >= 0, got ${edge}`);
  let node = 0;
  let start = 0;
  while (edge >= start + nodeSources(node)) {
    start += nodeSources(node);
    node += 1;
  }
  return { node, source: edge - start };
}

/** Number of local sources of intermediate node `node`: the two cell inputs and the nodes before it. */
export function nodeSources(node: number): number {
  return node + 2;
}

/** Intermediate node of the gene at position `gene` of a cell's gene list (two genes per node). */
export function geneNode(gene: number): number {
  return Math.floor(gene / 2);
}

/** Edge of the gene at position `gene` that reads local source `source`. */
export function geneEdge(gene: number, source: number): number {
  return edgeIndex(geneNode(gene), source);
}

/** Stride of an op reading local source `source`: 2 from the cell inputs of a reduction cell, else 1. */
export function sourceStride(source: number, reduction: boolean): 1 | 2 {
  return reduction && source < 2 ? 2 : 1;
}

/** Stride of the ops on edge `edge` (see `sourceStride`). */
export function edgeStride(edge: number, reduction: boolean): 1 | 2 {
  return sourceStride(edgeSource(edge).source, reduction);
}

/** Name of a local source index: "input 0", "input 1", "node 0", … */
export function sourceName(source: number): string {
  return source < 2 ? `input ${source}` : `node ${source - 2}`;
}

/** Human label of an edge, e.g. "edge 5 (node 2 <- input 0)". */
export function edgeLabel(edge: number): string {
  const { node, source } = edgeSource(edge);
  return `edge ${edge} (node ${node} <- ${sourceName(source)})`;
}

// ---------------------------------------------------------------------------------------------
// Shipped spaces

const DARTS_OPS: PrimitiveName[] = [
  'none',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'dil_conv_3x3',
  'dil_conv_5x5',
];

/** S1 (docs/spaces.md#shipped-spaces, from RobustDARTS `src/spaces.py`): [normal, reduce] pair per edge. */
const S1_EDGES: Array<[PrimitiveName[], PrimitiveName[]]> = [
  [['skip_connect', 'dil_conv_3x3'], ['max_pool_3x3', 'avg_pool_3x3']], // 0  n0 <- in0
  [['skip_connect', 'dil_conv_5x5'], ['max_pool_3x3', 'dil_conv_3x3']], // 1  n0 <- in1
  [['skip_connect', 'dil_conv_5x5'], ['max_pool_3x3', 'avg_pool_3x3']], // 2  n1 <- in0
  [['skip_connect', 'sep_conv_3x3'], ['max_pool_3x3', 'avg_pool_3x3']], // 3  n1 <- in1
  [['skip_connect', 'dil_conv_3x3'], ['skip_connect', 'dil_conv_5x5']], // 4  n1 <- n0
  [['max_pool_3x3', 'skip_connect'], ['max_pool_3x3', 'avg_pool_3x3']], // 5  n2 <- in0
  [['skip_connect', 'sep_conv_3x3'], ['max_pool_3x3', 'sep_conv_3x3']], // 6  n2 <- in1
  [['skip_connect', 'sep_conv_3x3'], ['skip_connect', 'dil_conv_3x3']], // 7  n2 <- n0
  [['skip_connect', 'dil_conv_3x3'], ['skip_connect', 'dil_conv_5x5']], // 8  n2 <- n1
  [['skip_connect', 'sep_conv_3x3'], ['max_pool_3x3', 'avg_pool_3x3']], // 9  n3 <- in0
  [['max_pool_3x3', 'skip_connect'], ['max_pool_3x3', 'avg_pool_3x3']], // 10 n3 <- in1
  [['skip_connect', 'dil_conv_3x3'], ['skip_connect', 'dil_conv_5x5']], // 11 n3 <- n0
  [['dil_conv_3x3', 'dil_conv_5x5'], ['skip_connect', 'dil_conv_5x5']], // 12 n3 <- n1
  [['dil_conv_3x3', 'dil_conv_5x5'], ['skip_connect', 'dil_conv_5x5']], // 13 n3 <- n2
];

function uniform(ops: PrimitiveName[], steps = 4): PrimitiveName[][] {
  return Array.from({ length: numEdges(steps) }, () => [...ops]);
}

interface RegistryEntry {
  space: SearchSpace;
  aliases: string[];
}

const REGISTRY: RegistryEntry[] = [
  {
    space: {
      name: 'darts',
      steps: 4,
      normal: uniform(DARTS_OPS),
      reduce: uniform(DARTS_OPS),
      description: 'original DARTS space: 8 ops on every edge (reference code name "s5")',
    },
    // The RobustDARTS code calls this space `s5`; the paper's S5 is a different (toy) space, so the
    // code name is only accepted with an explicit suffix.
    aliases: ['s5-code'],
  },
  {
    space: {
      name: 's1',
      steps: 4,
      normal: S1_EDGES.map(([n]) => [...n]),
      reduce: S1_EDGES.map(([, r]) => [...r]),
      description: 'RobustDARTS S1: 2 pre-selected ops per edge, different per edge and cell type',
    },
    aliases: [],
  },
  {
    space: {
      name: 's2',
      steps: 4,
      normal: uniform(['skip_connect', 'sep_conv_3x3']),
      reduce: uniform(['skip_connect', 'sep_conv_3x3']),
      description: 'RobustDARTS S2: {skip_connect, sep_conv_3x3} on every edge',
    },
    aliases: [],
  },
  {
    space: {
      name: 's3',
      steps: 4,
      normal: uniform(['none', 'skip_connect', 'sep_conv_3x3']),
      reduce: uniform(['none', 'skip_connect', 'sep_conv_3x3']),
      description: 'RobustDARTS S3: {none, skip_connect, sep_conv_3x3} on every edge',
    },
    aliases: [],
  },
  {
    space: {
      name: 's4',
      steps: 4,
      normal: uniform(['noise', 'sep_conv_3x3']),
      reduce: uniform(['noise', 'sep_conv_3x3']),
      description: 'RobustDARTS S4: {noise, sep_conv_3x3} on every edge',
    },
    aliases: [],
  },
];

/**
 * The paper's S5 (docs/s5.md; an assumption: the exact cell could not be recovered from the
 * sources): one intermediate node fed by c_{k-2} and c_{k-1}, three candidate ops on each of the
 * two edges, one of them parameter-free (skip_connect in the normal cell, max_pool_3x3 in the
 * reduction cell, where a stride-2 skip would be a parametrised factorized reduce), the other two
 * a separable 3×3 (more parameters) and a dilated 5×5 (larger receptive field), so the best is not
 * trivially the largest op. The node keeps both its edges, so 3² normal × 3² reduction = 81
 * genotypes. Kept apart from `listSpaces()` (the RobustDARTS spaces S1–S4 and darts, whose cells
 * have 4 nodes); `getSpace('s5')` returns it.
 */
const S5_TOY: SearchSpace = {
  name: 's5',
  steps: 1,
  normal: uniform(['skip_connect', 'sep_conv_3x3', 'dil_conv_5x5'], 1),
  reduce: uniform(['max_pool_3x3', 'sep_conv_3x3', 'dil_conv_5x5'], 1),
  description: "the paper's S5 (assumed form, docs/s5.md): 1 node, 2 edges, 3 ops each; 81 genotypes",
};

/** Spaces outside the RobustDARTS list: the paper's S5 toy space. */
const TOY_REGISTRY: RegistryEntry[] = [{ space: S5_TOY, aliases: ['s5-toy'] }];

/** Names of the toy spaces (not in `listSpaces()`): ['s5']. */
export function listToySpaces(): string[] {
  return TOY_REGISTRY.map((e) => e.space.name);
}

function cloneSpace(s: SearchSpace): SearchSpace {
  const out: SearchSpace = {
    name: s.name,
    steps: s.steps,
    normal: s.normal.map((e) => [...e]),
    reduce: s.reduce.map((e) => [...e]),
  };
  if (s.description !== undefined) out.description = s.description;
  return out;
}

/** Canonical names of the shipped spaces. */
export function listSpaces(): string[] {
  return REGISTRY.map((e) => e.space.name);
}

/** True if `name` (case-insensitive, aliases included) is a shipped space. */
export function hasSpace(name: string): boolean {
  const key = name.trim().toLowerCase();
  return [...REGISTRY, ...TOY_REGISTRY].some((e) => e.space.name === key || e.aliases.includes(key));
}

/**
 * A shipped space by name (case-insensitive: `S1` == `s1`). Returns a fresh copy.
 * `s5` is the paper's S5 (the 81-architecture toy space, docs/s5.md); the reference code's `s5`
 * is the original DARTS space, named `darts` here (alias `s5-code`).
 */
export function getSpace(name: string): SearchSpace {
  const key = name.trim().toLowerCase();
  const entry = [...REGISTRY, ...TOY_REGISTRY].find((e) => e.space.name === key || e.aliases.includes(key));
  if (entry) return cloneSpace(entry.space);
  throw new ConfigError(
    `unknown search space '${name}'; known spaces: ${listSpaces().join(', ')}, and the toy space ${listToySpaces().join(', ')}`,
    'pick one of the known spaces, or pass the path of a space file (.json/.yaml)',
  );
}

// ---------------------------------------------------------------------------------------------
// α shape

export interface CellAlphaShape {
  /** Number of α rows (edges). */
  edges: number;
  /** Number of α entries in each row (= ops on that edge). */
  opsPerEdge: number[];
  /** Largest row length. */
  maxOps: number;
  /** All rows have the same length: α is the rectangular matrix [edges, maxOps]. */
  uniform: boolean;
  /** Total α entries of this cell type. */
  size: number;
}

function cellShape(cell: PrimitiveName[][]): CellAlphaShape {
  const opsPerEdge = cell.map((e) => e.length);
  const maxOps = Math.max(...opsPerEdge);
  return {
    edges: cell.length,
    opsPerEdge,
    maxOps,
    uniform: opsPerEdge.every((n) => n === maxOps),
    size: opsPerEdge.reduce((a, b) => a + b, 0),
  };
}

/** α layout per cell type (see the module comment: one row per edge, ragged if the space is). */
export function alphaShape(space: SearchSpace): { normal: CellAlphaShape; reduce: CellAlphaShape } {
  return { normal: cellShape(space.normal), reduce: cellShape(space.reduce) };
}

/** Total number of architecture parameters (both cell types): the Hessian is this square. */
export function alphaSizes(space: SearchSpace): number {
  const s = alphaShape(space);
  return s.normal.size + s.reduce.size;
}

// ---------------------------------------------------------------------------------------------
// User-defined spaces

/*
 * Space definition format (JSON or YAML; the same shape as an object):
 *
 *   name: my-space          # required, non-empty string
 *   steps: 4                # optional, default 4 (intermediate nodes per cell)
 *   description: ...        # optional
 *   normal: [none, skip_connect, sep_conv_3x3]       # one op list used on every edge
 *   reduce:                                          # or one op list per edge (numEdges(steps) lists)
 *     - [max_pool_3x3, avg_pool_3x3]
 *     - ...
 *
 * Each of `normal` / `reduce` (both required) is one of
 *   - a list of op names                → the same list on every edge;
 *   - {ops: [op names]}                 → the same, spelled out;
 *   - a list of lists of op names       → per edge, in edge order (docs/spaces.md#edge-order);
 *   - {edges: [[op names], ...]}        → the same, spelled out.
 * Within an edge: at least one op, no duplicates, and not only 'none' (it could never be chosen).
 */

const TOP_KEYS = new Set(['name', 'steps', 'description', 'normal', 'reduce']);

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'string') return `'${x}'`;
  if (typeof x === 'object') return 'a mapping';
  return String(x);
}

const FORMAT_HINT =
  'each of normal/reduce is a list of op names (same on every edge), {ops: [...]}, ' +
  'a list with one op list per edge, or {edges: [[...], ...]}';

function validateEdgeOps(value: unknown, where: string): PrimitiveName[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(`${where}: expected a list of op names, got ${describeValue(value)}`, FORMAT_HINT);
  }
  if (value.length === 0) {
    throw new ConfigError(`${where}: empty op list`, 'give every edge at least one op');
  }
  const seen = new Set<string>();
  const out: PrimitiveName[] = [];
  for (const op of value) {
    if (!isPrimitiveName(op)) {
      throw new ConfigError(
        `${where}: unknown op ${typeof op === 'string' ? `'${op}'` : describeValue(op)}; known ops: ${knownOpsText()}`,
        'fix the op name (names are lower-case, as in DARTS)',
      );
    }
    if (seen.has(op)) throw new ConfigError(`${where}: op '${op}' listed twice`, 'list each op once per edge');
    seen.add(op);
    out.push(op);
  }
  if (out.every((o) => o === 'none')) {
    throw new ConfigError(`${where}: the only op is 'none', so this edge could never be chosen`, 'add at least one op other than none');
  }
  return out;
}

function validateCell(value: unknown, cell: CellType, steps: number, source: string): PrimitiveName[][] {
  const k = numEdges(steps);
  let v = value;
  if (v === undefined) {
    throw new ConfigError(`${source}: missing '${cell}'`, `give the ${cell} cell's ops; ${FORMAT_HINT}`);
  }
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === 'ops') {
      return uniformFrom(validateEdgeOps(v.ops, `${source}: ${cell}.ops`), k);
    }
    if (keys.length === 1 && keys[0] === 'edges') {
      v = v.edges;
      if (!Array.isArray(v) || !v.every((e) => Array.isArray(e))) {
        throw new ConfigError(`${source}: ${cell}.edges must be a list of op lists, one per edge`, FORMAT_HINT);
      }
    } else {
      throw new ConfigError(`${source}: ${cell} has keys ${keys.map((x) => `'${x}'`).join(', ')}; expected exactly 'ops' or 'edges'`, FORMAT_HINT);
    }
  }
  if (!Array.isArray(v)) {
    throw new ConfigError(`${source}: ${cell} must be a list, got ${describeValue(v)}`, FORMAT_HINT);
  }
  if (v.length > 0 && v.every((e) => typeof e === 'string')) {
    return uniformFrom(validateEdgeOps(v, `${source}: ${cell} (all edges)`), k);
  }
  if (v.length > 0 && v.every((e) => Array.isArray(e))) {
    if (v.length !== k) {
      throw new ConfigError(
        `${source}: ${cell} has ${v.length} edge op lists, but a cell with ${steps} intermediate nodes has ${k} edges`,
        `give exactly ${k} lists in the edge order node0<-in0, node0<-in1, node1<-in0, …, or one list for all edges`,
      );
    }
    return v.map((e, i) => validateEdgeOps(e, `${source}: ${cell} ${edgeLabel(i)}`));
  }
  throw new ConfigError(`${source}: ${cell} must be a non-empty list of op names or of op lists (not a mix)`, FORMAT_HINT);
}

function uniformFrom(ops: PrimitiveName[], k: number): PrimitiveName[][] {
  return Array.from({ length: k }, () => [...ops]);
}

/**
 * Validate a space definition object (format above). `source` names it in errors
 * (e.g. `space file x.yaml`). Throws ConfigError naming the field or edge at fault.
 */
export function spaceFromObject(obj: unknown, source = 'space definition'): SearchSpace {
  if (!isPlainObject(obj)) {
    throw new ConfigError(`${source}: expected a mapping with name, normal, reduce; got ${describeValue(obj)}`, FORMAT_HINT);
  }
  for (const key of Object.keys(obj)) {
    if (!TOP_KEYS.has(key)) {
      throw new ConfigError(`${source}: unknown key '${key}'`, `allowed keys: ${[...TOP_KEYS].join(', ')}`);
    }
  }
  const name = obj.name;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new ConfigError(`${source}: 'name' must be a non-empty string`, 'add e.g. name: my-space');
  }
  const stepsRaw = obj.steps ?? 4;
  if (typeof stepsRaw !== 'number' || !Number.isInteger(stepsRaw) || stepsRaw < 1) {
    throw new ConfigError(`${source}: 'steps' must be a positive integer, got ${describeValue(stepsRaw)}`, 'use steps: 4 as in the paper, or leave it out');
  }
  if (obj.description !== undefined && typeof obj.description !== 'string') {
    throw new ConfigError(`${source}: 'description' must be a string`, 'quote the description');
  }
  const space: SearchSpace = {
    name: name.trim(),
    steps: stepsRaw,
    normal: validateCell(obj.normal, 'normal', stepsRaw, source),
    reduce: validateCell(obj.reduce, 'reduce', stepsRaw, source),
  };
  if (typeof obj.description === 'string') space.description = obj.description;
  return space;
}

/** Parse a space definition from JSON or YAML text (YAML is a superset of JSON). */
export function parseSpaceText(text: string, source = 'space definition'): SearchSpace {
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (e) {
    throw new ConfigError(`${source}: not valid YAML/JSON: ${(e as Error).message}`, 'fix the syntax at the position shown');
  }
  return spaceFromObject(obj, source);
}

/** Read and validate a space file (.json, .yaml or .yml). */
export function loadSpaceFile(path: string): SearchSpace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`space file ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 'check the path');
  }
  return parseSpaceText(text, `space file ${path}`);
}

/** A shipped space by name, or else a space file by path. */
export function resolveSpace(nameOrPath: string): SearchSpace {
  if (hasSpace(nameOrPath)) return getSpace(nameOrPath);
  if (/\.(json|ya?ml)$/i.test(nameOrPath) || existsSync(nameOrPath)) return loadSpaceFile(nameOrPath);
  return getSpace(nameOrPath); // throws the unknown-space error
}

/**
 * Compact, JSON-able form of a space (for config.json): a cell whose edges all share one list is
 * written as that list, otherwise as one list per edge. `spaceFromObject` reads it back.
 */
export function spaceToObject(space: SearchSpace): Record<string, unknown> {
  const cell = (c: PrimitiveName[][]): PrimitiveName[] | PrimitiveName[][] => {
    const first = c[0] ?? [];
    const same = c.every((e) => e.length === first.length && e.every((o, i) => o === first[i]));
    return same ? [...first] : c.map((e) => [...e]);
  };
  const out: Record<string, unknown> = { name: space.name, steps: space.steps };
  if (space.description !== undefined) out.description = space.description;
  out.normal = cell(space.normal);
  out.reduce = cell(space.reduce);
  return out;
}

// Shipped spaces go through the same validator, so a typo here fails at import.
for (const e of [...REGISTRY, ...TOY_REGISTRY]) spaceFromObject({ ...e.space }, `built-in space ${e.space.name}`);
