/**
 * The DARTS Python repr of a recurrent genotype (docs/lm.md#genotypes; DARTS `rnn/genotypes.py`):
 * `Genotype(recurrent=[('sigmoid', 0), ('relu', 1), …], concat=range(1, 9))`. Formatter and a
 * tolerant parser (the tokenizer is the CNN repr's, nas/repr.ts).
 */
import { GenotypeError } from '../../errors.js';
import { lineCol, tokenize, type Token } from '../repr.js';
import { validateRnnGenotype, type RnnGenotype } from './genotype.js';

const HINT = "a recurrent genotype repr looks like Genotype(recurrent=[('sigmoid', 0), ('relu', 1), …], concat=range(1, 9))";

/**
 * Exactly what Python prints for the namedtuple: genes as `('op', j)`, a contiguous ascending
 * concat as `range(a, b)`, anything else as a list.
 */
export function formatRnnGenotypeRepr(g: RnnGenotype): string {
  const c = g.concat;
  const contiguous = c.length > 0 && c.every((x, i) => x === c[0]! + i);
  const concat = contiguous ? `range(${c[0]}, ${c[0]! + c.length})` : `[${c.join(', ')}]`;
  return `Genotype(recurrent=[${g.recurrent.map(([o, j]) => `('${o}', ${j})`).join(', ')}], concat=${concat})`;
}

/**
 * Parse a recurrent genotype repr. Accepts `range(a, b)` / `range(b)` or list / tuple concats,
 * either quote, any whitespace and line breaks, trailing commas, an optional `NAME =` prefix, a
 * module prefix (`genotypes.Genotype(…)`) and keyword or positional arguments. Errors give the
 * line and column.
 */
export function parseRnnGenotypeRepr(text: string, source = 'recurrent genotype repr'): RnnGenotype {
  const toks = tokenize(text, source, HINT);
  let p = 0;
  const peek = (): Token => toks[p]!;
  const fail = (msg: string, t: Token = peek()): never => {
    throw new GenotypeError(`${source}: ${msg} at ${lineCol(text, t.pos)} (found ${t.kind === 'eof' ? 'end of text' : `'${t.text}'`})`, HINT);
  };
  const isPunct = (c: string): boolean => peek().kind === 'punct' && peek().text === c;
  const expect = (c: string, what = `'${c}'`): Token => {
    if (!isPunct(c)) fail(`expected ${what}`);
    return toks[p++]!;
  };
  const expectInt = (): number => {
    if (peek().kind !== 'int') fail('expected an integer');
    return toks[p++]!.value as number;
  };

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

  const genePos: number[] = [];
  const parseGenes = (): unknown[] => {
    const genes: unknown[] = [];
    expect('[', "'[' starting the gene list");
    while (!isPunct(']')) {
      const open = expect('(', "'(' starting a gene (op, source)");
      if (peek().kind !== 'string') fail('expected a quoted op name');
      const op = toks[p++]!.value;
      expect(',');
      const j = expectInt();
      if (isPunct(',')) p++;
      expect(')');
      genes.push([op, j]);
      genePos.push(open.pos);
      if (!isPunct(']')) expect(',', "',' or ']'");
    }
    p++;
    return genes;
  };
  const parseConcat = (): number[] => {
    if (peek().kind === 'ident' && peek().text === 'range') {
      p++;
      expect('(');
      const a = expectInt();
      let [lo, hi] = [0, a];
      if (isPunct(',')) {
        p++;
        if (peek().kind === 'int') {
          [lo, hi] = [a, expectInt()];
          if (isPunct(',')) p++;
        }
      }
      expect(')');
      return Array.from({ length: Math.max(0, hi - lo) }, (_, i) => lo + i);
    }
    const open = isPunct('[') ? '[' : isPunct('(') ? '(' : fail("expected 'range(a, b)' or a list of integers");
    const close = open === '[' ? ']' : ')';
    p++;
    const out: number[] = [];
    while (!isPunct(close)) {
      out.push(expectInt());
      if (!isPunct(close)) expect(',', `',' or '${close}'`);
    }
    p++;
    return out;
  };

  const fields = ['recurrent', 'concat'] as const;
  const got: { recurrent?: unknown[]; concat?: number[] } = {};
  let positional = 0;
  while (!isPunct(')')) {
    const t = peek();
    let field: (typeof fields)[number];
    if (t.kind === 'ident' && toks[p + 1]?.kind === 'punct' && toks[p + 1]!.text === '=') {
      if (!(fields as readonly string[]).includes(t.text)) fail(`unknown field '${t.text}' (expected recurrent, concat)`);
      field = t.text as (typeof fields)[number];
      p += 2;
    } else {
      if (positional >= fields.length) fail('too many arguments');
      field = fields[positional]!;
    }
    positional++;
    if (got[field] !== undefined) fail(`field '${field}' given twice`, t);
    if (field === 'recurrent') got.recurrent = parseGenes();
    else got.concat = parseConcat();
    if (!isPunct(')')) expect(',', "',' or ')'");
  }
  const close = toks[p++]!;
  if (peek().kind !== 'eof') fail('unexpected text after the closing parenthesis');
  for (const f of fields) if (got[f] === undefined) fail(`missing field '${f}'`, close);
  return validateRnnGenotype({ recurrent: got.recurrent, concat: got.concat }, source, (i) => ` at ${lineCol(text, genePos[i]!)}`);
}
