/**
 * Genotype: the discrete cell chosen by a search, as plain data (paper-spec §2.5).
 *
 * For each cell type: two genes per intermediate node, gene = (op name, local source index j)
 * with j = 0, 1 the cell inputs c_{k-2}, c_{k-1} and j ≥ 2 intermediate node j−2; plus the
 * list of states concatenated into the cell output (concat, [2, 3, 4, 5] for 4 nodes).
 *
 * Forms: the object below; a JSON form (`genotypeToJSON` / `genotypeFromJSON`, used in
 * genotypes.jsonl and result.json); and the DARTS Python repr (`formatGenotypeRepr` /
 * `parseGenotypeRepr`, the form of the reference code, its logs and published cells).
 */
import { GenotypeError, ShapeError } from '../errors.js';
import { isPrimitiveName, knownOpsText, type PrimitiveName } from './primitives.js';
import { edgeIndex, numEdges, sourceName, type CellType, type SearchSpace } from './spaces.js';

export type Gene = [PrimitiveName, number];

export interface Genotype {
  normal: Gene[];
  normalConcat: number[];
  reduce: Gene[];
  reduceConcat: number[];
}

/** JSON form: the same fields; `genotypeFromJSON` also reads `normal_concat`/`reduce_concat`. */
export interface GenotypeJSON {
  normal: Array<[string, number]>;
  normalConcat: number[];
  reduce: Array<[string, number]>;
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

// ---------------------------------------------------------------------------------------------
// Derivation from α

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
    for (let j = 0; j < node + 2; j++) {
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
 * Discrete genotype from α (spec §2.5): softmax per edge; per node keep the 2 edges with the
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

// ---------------------------------------------------------------------------------------------
// Validation shared by the JSON and repr readers

type Locate = (what: string) => string;

function validateGenes(value: unknown, cell: CellType, where: Locate, geneLoc?: (i: number) => string): Gene[] {
  if (!Array.isArray(value)) throw new GenotypeError(`${where(cell)}: expected a list of genes`, 'write genes as [op, source] pairs');
  if (value.length === 0 || value.length % 2 !== 0) {
    throw new GenotypeError(
      `${where(cell)}: has ${value.length} genes; a cell needs two genes per intermediate node (an even, non-zero count)`,
      'give exactly two (op, source) genes for each intermediate node',
    );
  }
  return value.map((gene, i): Gene => {
    const node = Math.floor(i / 2);
    const at = `${where(`${cell}[${i}]`)} (node ${node})${geneLoc ? geneLoc(i) : ''}`;
    if (!Array.isArray(gene) || gene.length !== 2) throw new GenotypeError(`${at}: a gene must be a pair [op, source]`, 'write e.g. ["sep_conv_3x3", 0]');
    const [op, src] = gene as [unknown, unknown];
    if (!isPrimitiveName(op)) {
      throw new GenotypeError(`${at}: unknown op ${typeof op === 'string' ? `'${op}'` : String(op)}; known ops: ${knownOpsText()}`, 'fix the op name');
    }
    if (typeof src !== 'number' || !Number.isInteger(src) || src < 0 || src >= node + 2) {
      throw new GenotypeError(
        `${at}: source ${String(src)} is out of range; node ${node} can take inputs 0, 1 and nodes before it (sources 0..${node + 1})`,
        'sources are 0, 1 for the cell inputs and j ≥ 2 for intermediate node j−2',
      );
    }
    return [op, src];
  });
}

function validateConcat(value: unknown, field: string, steps: number, where: Locate): number[] {
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

function checkSameSteps(normal: Gene[], reduce: Gene[], where: Locate): number {
  if (normal.length !== reduce.length) {
    throw new GenotypeError(
      `${where('reduce')}: has ${reduce.length / 2} nodes but normal has ${normal.length / 2}`,
      'both cells of a genotype must have the same number of intermediate nodes',
    );
  }
  return normal.length / 2;
}

// ---------------------------------------------------------------------------------------------
// JSON form

export function genotypeToJSON(g: Genotype): GenotypeJSON {
  return {
    normal: g.normal.map(([o, j]) => [o, j]),
    normalConcat: [...g.normalConcat],
    reduce: g.reduce.map(([o, j]) => [o, j]),
    reduceConcat: [...g.reduceConcat],
  };
}

/**
 * Read a genotype from its JSON form (an object, or JSON text). Validates op names, source
 * ranges, two genes per node and concat lists; errors name the field, gene and node.
 */
export function genotypeFromJSON(value: unknown, source = 'genotype'): Genotype {
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch (e) {
      throw new GenotypeError(`${source}: not valid JSON: ${(e as Error).message}`, 'a genotype JSON looks like {"normal": [["sep_conv_3x3", 0], …], "normalConcat": [2, 3, 4, 5], …}');
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new GenotypeError(`${source}: expected an object with normal, normalConcat, reduce, reduceConcat`, 'see genotypeToJSON for the format');
  }
  const o = obj as Record<string, unknown>;
  const where: Locate = (w) => `${source}: ${w}`;
  for (const k of Object.keys(o)) {
    if (!['normal', 'normalConcat', 'normal_concat', 'reduce', 'reduceConcat', 'reduce_concat'].includes(k)) {
      throw new GenotypeError(`${source}: unknown field '${k}'`, 'allowed fields: normal, normalConcat, reduce, reduceConcat');
    }
  }
  const normal = validateGenes(o.normal, 'normal', where);
  const reduce = validateGenes(o.reduce, 'reduce', where);
  const steps = checkSameSteps(normal, reduce, where);
  const nc = o.normalConcat ?? o.normal_concat;
  const rc = o.reduceConcat ?? o.reduce_concat;
  return {
    normal,
    normalConcat: validateConcat(nc, 'normalConcat', steps, where),
    reduce,
    reduceConcat: validateConcat(rc, 'reduceConcat', steps, where),
  };
}

// ---------------------------------------------------------------------------------------------
// DARTS Python repr

function formatConcat(c: number[]): string {
  const contiguous = c.length > 0 && c.every((x, i) => x === c[0]! + i);
  return contiguous ? `range(${c[0]}, ${c[0]! + c.length})` : `[${c.join(', ')}]`;
}

function formatGenes(genes: Gene[]): string {
  return `[${genes.map(([o, j]) => `('${o}', ${j})`).join(', ')}]`;
}

/**
 * The DARTS repr, exactly as Python prints the namedtuple, e.g.
 * `Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))`.
 * A concat that is a contiguous ascending run is written as `range(a, b)`, anything else as a list.
 */
export function formatGenotypeRepr(g: Genotype): string {
  return (
    `Genotype(normal=${formatGenes(g.normal)}, normal_concat=${formatConcat(g.normalConcat)}, ` +
    `reduce=${formatGenes(g.reduce)}, reduce_concat=${formatConcat(g.reduceConcat)})`
  );
}

type TokKind = 'ident' | 'string' | 'int' | 'punct' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  value?: string | number;
  pos: number;
}

function lineCol(s: string, pos: number): string {
  let line = 1;
  let col = 1;
  for (let i = 0; i < pos && i < s.length; i++) {
    if (s[i] === '\n') {
      line++;
      col = 1;
    } else col++;
  }
  return `line ${line}, column ${col}`;
}

function tokenize(s: string, source: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new GenotypeError(`${source}: ${msg} at ${lineCol(s, at)}`, 'a genotype repr looks like Genotype(normal=[(\'sep_conv_3x3\', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))');
  };
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i))![0];
      toks.push({ kind: 'ident', text: m, value: m, pos: i });
      i += m.length;
      continue;
    }
    if (/[0-9-]/.test(c)) {
      const m = /^-?[0-9]+/.exec(s.slice(i));
      if (!m) fail(`unexpected '${c}'`, i);
      toks.push({ kind: 'int', text: m![0], value: Number.parseInt(m![0], 10), pos: i });
      i += m![0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      const end = s.indexOf(c, i + 1);
      if (end < 0) fail('unterminated string', i);
      const body = s.slice(i + 1, end);
      if (body.includes('\\') || body.includes('\n')) fail('unsupported string (escapes or line break inside quotes)', i);
      toks.push({ kind: 'string', text: s.slice(i, end + 1), value: body, pos: i });
      i = end + 1;
      continue;
    }
    if ('()[],=.'.includes(c)) {
      toks.push({ kind: 'punct', text: c, pos: i });
      i++;
      continue;
    }
    fail(`unexpected character '${c}'`, i);
  }
  toks.push({ kind: 'eof', text: 'end of text', pos: s.length });
  return toks;
}

interface ParsedGenes {
  genes: unknown[];
  positions: number[];
}

/**
 * Parse the DARTS Python repr of a genotype. Accepts `range(a, b)` (and `range(b)`) or list
 * concats, single or double quotes, any whitespace and line breaks, trailing commas, an optional
 * `NAME =` assignment, a module prefix (`genotypes.Genotype(…)`), keyword or positional
 * arguments, and per-node nested gene lists (`[[(op, j), (op, j)], …]`, flattened).
 * Errors give the line and column.
 */
export function parseGenotypeRepr(text: string, source = 'genotype repr'): Genotype {
  const toks = tokenize(text, source);
  let p = 0;
  const peek = (): Token => toks[p]!;
  const fail = (msg: string, t: Token = peek()): never => {
    throw new GenotypeError(
      `${source}: ${msg} at ${lineCol(text, t.pos)} (found ${t.kind === 'eof' ? 'end of text' : `'${t.text}'`})`,
      "a genotype repr looks like Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))",
    );
  };
  const isPunct = (c: string): boolean => peek().kind === 'punct' && peek().text === c;
  const expect = (c: string, what = `'${c}'`): Token => {
    if (!isPunct(c)) fail(`expected ${what}`);
    return toks[p++]!;
  };
  const expectInt = (): Token => {
    if (peek().kind !== 'int') fail('expected an integer');
    return toks[p++]!;
  };

  // Optional `NAME =`, then dotted prefix ending in Genotype.
  if (peek().kind === 'ident' && toks[p + 1]?.kind === 'punct' && toks[p + 1]!.text === '=') p += 2;
  for (;;) {
    if (peek().kind !== 'ident') fail("expected 'Genotype('");
    const id = toks[p++]!;
    if (isPunct('.')) {
      p++;
      continue;
    }
    if (id.text !== 'Genotype') fail("expected 'Genotype'", id);
    break;
  }
  expect('(');

  const parseGene = (out: ParsedGenes): void => {
    const open = expect('(', "'(' starting a gene (op, source)");
    if (peek().kind !== 'string') fail('expected a quoted op name');
    const opTok = toks[p++]!;
    if (!isPrimitiveName(opTok.value)) {
      throw new GenotypeError(
        `${source}: unknown op '${String(opTok.value)}' at ${lineCol(text, opTok.pos)}; known ops: ${knownOpsText()}`,
        'fix the op name',
      );
    }
    expect(',');
    const j = expectInt();
    if (isPunct(',')) p++;
    expect(')');
    out.genes.push([opTok.value, j.value]);
    out.positions.push(open.pos);
  };
  const parseGeneList = (): ParsedGenes => {
    const out: ParsedGenes = { genes: [], positions: [] };
    expect('[', "'[' starting a gene list");
    while (!isPunct(']')) {
      if (isPunct('[')) {
        p++;
        while (!isPunct(']')) {
          parseGene(out);
          if (!isPunct(']')) expect(',', "',' or ']'");
        }
        p++;
      } else parseGene(out);
      if (!isPunct(']')) expect(',', "',' or ']'");
    }
    p++;
    return out;
  };
  const parseConcat = (): { value: number[]; pos: number } => {
    const start = peek();
    if (start.kind === 'ident' && start.text === 'range') {
      p++;
      expect('(');
      const a = expectInt().value as number;
      let lo = 0;
      let hi = a;
      if (isPunct(',')) {
        p++;
        if (peek().kind === 'int') {
          lo = a;
          hi = expectInt().value as number;
          if (isPunct(',')) p++;
        }
      }
      expect(')');
      const value: number[] = [];
      for (let x = lo; x < hi; x++) value.push(x);
      return { value, pos: start.pos };
    }
    const open = isPunct('[') ? '[' : isPunct('(') ? '(' : fail("expected 'range(a, b)' or a list of integers");
    const close = open === '[' ? ']' : ')';
    p++;
    const value: number[] = [];
    while (!isPunct(close)) {
      value.push(expectInt().value as number);
      if (!isPunct(close)) expect(',', `',' or '${close}'`);
    }
    p++;
    return { value, pos: start.pos };
  };

  const fields = ['normal', 'normal_concat', 'reduce', 'reduce_concat'] as const;
  type Field = (typeof fields)[number];
  const got: Partial<Record<Field, { genes?: ParsedGenes; concat?: number[]; pos: number }>> = {};
  let positional = 0;
  while (!isPunct(')')) {
    let field: Field;
    const t = peek();
    if (t.kind === 'ident' && toks[p + 1]?.kind === 'punct' && toks[p + 1]!.text === '=') {
      if (!(fields as readonly string[]).includes(t.text)) fail(`unknown field '${t.text}' (expected ${fields.join(', ')})`);
      field = t.text as Field;
      p += 2;
    } else {
      if (positional >= fields.length) fail('too many arguments');
      field = fields[positional]!;
    }
    positional++;
    if (got[field]) fail(`field '${field}' given twice`, t);
    const valTok = peek();
    if (field === 'normal' || field === 'reduce') got[field] = { genes: parseGeneList(), pos: valTok.pos };
    else {
      const c = parseConcat();
      got[field] = { concat: c.value, pos: c.pos };
    }
    if (!isPunct(')')) expect(',', "',' or ')'");
  }
  const close = toks[p++]!;
  if (peek().kind !== 'eof') fail('unexpected text after the closing parenthesis');
  for (const f of fields) if (!got[f]) fail(`missing field '${f}'`, close);

  const where: Locate = (w) => `${source}: ${w}`;
  const geneLoc = (cell: 'normal' | 'reduce') => (i: number) => ` at ${lineCol(text, got[cell]!.genes!.positions[i]!)}`;
  const fieldWhere = (f: Field): Locate => (w) => `${where(w)} (at ${lineCol(text, got[f]!.pos)})`;
  const normal = validateGenes(got.normal!.genes!.genes, 'normal', where, geneLoc('normal'));
  const reduce = validateGenes(got.reduce!.genes!.genes, 'reduce', where, geneLoc('reduce'));
  const steps = checkSameSteps(normal, reduce, fieldWhere('reduce'));
  return {
    normal,
    normalConcat: validateConcat(got.normal_concat!.concat, 'normal_concat', steps, fieldWhere('normal_concat')),
    reduce,
    reduceConcat: validateConcat(got.reduce_concat!.concat, 'reduce_concat', steps, fieldWhere('reduce_concat')),
  };
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
      const node = Math.floor(i / 2);
      if (j < 0 || j >= node + 2) {
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
      const e = edgeIndex(Math.floor(i / 2), j);
      rows[e]![space[cell][e]!.indexOf(op)] = 1;
    });
    return rows;
  };
  return { normal: make('normal'), reduce: make('reduce') };
}

/** Structural equality (genes in order, concat lists). */
export function genotypesEqual(a: Genotype, b: Genotype): boolean {
  const genes = (x: Gene[], y: Gene[]) => x.length === y.length && x.every(([o, j], i) => o === y[i]![0] && j === y[i]![1]);
  const nums = (x: number[], y: number[]) => x.length === y.length && x.every((v, i) => v === y[i]);
  return genes(a.normal, b.normal) && genes(a.reduce, b.reduce) && nums(a.normalConcat, b.normalConcat) && nums(a.reduceConcat, b.reduceConcat);
}
