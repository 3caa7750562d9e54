/**
 * The DARTS Python repr of a genotype (`Genotype(normal=[…], normal_concat=range(2, 6), …)`): the
 * form of the reference code, its logs and published cells. Formatter and a tolerant parser.
 */
import { GenotypeError } from '../errors.js';
import { isPrimitiveName, knownOpsText } from './primitives.js';
import { checkSameSteps, validateConcat, validateGenes, type Gene, type Genotype, type Locate } from './genotype.js';

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

const CELL_REPR_HINT = "a genotype repr looks like Genotype(normal=[('sep_conv_3x3', 0), …], normal_concat=range(2, 6), reduce=[…], reduce_concat=range(2, 6))";

export type TokKind = 'ident' | 'string' | 'int' | 'punct' | 'eof';
export interface Token {
  kind: TokKind;
  text: string;
  value?: string | number;
  pos: number;
}

/** 'line L, column C' of a position in `s` (error messages; also used by the recurrent repr, nas/rnn/repr.ts). */
export function lineCol(s: string, pos: number): string {
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

/** Tokens of a Python genotype repr; `hint` is the help line of a tokenizer error (also used by nas/rnn/repr.ts). */
export function tokenize(s: string, source: string, hint = CELL_REPR_HINT): Token[] {
  const toks: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new GenotypeError(`${source}: ${msg} at ${lineCol(s, at)}`, hint);
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
