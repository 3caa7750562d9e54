/**
 * The one format of a run folder (DESIGN "Files a run leaves"): the file names, one zod schema
 * per metrics-line kind, the genotype line, result.json, and the one JSON-lines parser every
 * reader uses.
 *
 * The schemas are the readers' view: loose (unknown fields kept), optional fields may be
 * missing, metric values may be null (JSON has no NaN: a diverged run writes null). The
 * writers' side is `search/run-lines.ts` (TypeScript types the trainer and the plug-ins write);
 * the checks at the end of this file make the build fail when a written type no longer fits
 * its schema.
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import type {
  AdaIgnoreLine,
  AdaRollbackLine,
  CollapseLine,
  S5RegretLine,
  DartsEsGenotypeLine,
  DiscretizationLine,
  DivergedLine,
  EarlyStopCheckLine,
  EarlyStopLine,
  EpochLine,
  GenotypeLine,
  HessianLine,
  MetricsKind,
  MetricsLine,
  RswsSelectionLine,
  SearchResultRecord,
} from '../search/run-lines.js';

export type { GenotypeLine, MetricsLine, SearchResultRecord };

/** File and folder names inside a run folder (and a grid folder). */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  genotypes: 'genotypes.jsonl',
  result: 'result.json',
  checkpoints: 'checkpoints',
  /** grid folders only: the members' summary */
  grid: 'grid.json',
  /** grid folders only: the members' run folders */
  members: 'runs',
} as const;

// ---------------------------------------------------------------------------------------------
// JSON lines

export interface JsonLine {
  /** 1-based line number */
  line: number;
  value: Record<string, unknown>;
}

export interface JsonLinesOptions {
  /** The error to throw for line `line`; `what` says what is wrong ('not valid JSON (…)', 'expected a JSON object'). */
  error(line: number, what: string): Error;
  /**
   * Called for a last line without a trailing newline that is not valid JSON (a write in
   * progress), which is then skipped; without it such a line is an error like any other.
   */
  onIncompleteLast?(line: number): void;
}

/** Parse JSON-lines text: one JSON object per line, blank lines ignored. Pure. */
export function parseJsonLines(text: string, o: JsonLinesOptions): JsonLine[] {
  const lines = text.split('\n');
  const out: JsonLine[] = [];
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!.trim();
    if (s === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch (e) {
      if (o.onIncompleteLast && i === lines.length - 1 && !text.endsWith('\n')) {
        o.onIncompleteLast(i + 1);
        continue;
      }
      throw o.error(i + 1, `not valid JSON (${(e as Error).message})`);
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw o.error(i + 1, 'expected a JSON object');
    out.push({ line: i + 1, value: v as Record<string, unknown> });
  }
  return out;
}

/** Read and parse a JSON-lines file; a missing file is an empty one when `missingOk`. */
export function readJsonLinesFile(path: string, o: JsonLinesOptions & { missingOk?: boolean }): JsonLine[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (o.missingOk && (e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return parseJsonLines(text, o);
}

// ---------------------------------------------------------------------------------------------
// metrics.jsonl: one schema per kind

const num = z.number().finite();
const optNum = num.nullable().optional();
const epochField = z.number().int().nonnegative();
const optInt = z.number().int().nonnegative().optional();
const iterField = optInt;
const split = z.looseObject({ loss: optNum, acc: optNum }).nullable().optional();
const optString = z.string().nullable().optional();

export const epochLineSchema = z.looseObject({
  kind: z.literal('epoch'),
  epoch: epochField,
  iteration: iterField,
  lr: optNum,
  l2: optNum,
  dropPath: optNum,
  cutoutProb: optNum,
  train: split,
  valid: split,
  /** a from-scratch training measured on the test split writes `test` instead of `valid` */
  test: split,
  seconds: optNum,
});

export const hessianLineSchema = z.looseObject({
  kind: z.literal('hessian'),
  epoch: epochField,
  iteration: iterField,
  maxEigenvalue: num,
  eigenvalues: z.array(num).optional(),
  minEigenvalue: optNum,
  method: optString,
  shift: optNum,
  stderr: optNum,
  batches: optInt,
  operatorCalls: optInt,
  seconds: optNum,
  perBatch: z.array(num).optional(),
});

export const earlyStopCheckLineSchema = z.looseObject({
  kind: z.literal('early-stop-check'),
  epoch: epochField,
  iteration: iterField,
  rule: optString,
  ratio: optNum,
  current: optNum,
  previous: optNum,
  fired: z.boolean().optional(),
  stopEpoch: epochField.nullable().optional(),
});

export const earlyStopLineSchema = z.looseObject({
  kind: z.literal('early-stop'),
  epoch: epochField,
  iteration: iterField,
  rule: optString,
  detectEpoch: epochField.nullable().optional(),
  stopEpoch: epochField.nullable().optional(),
  repr: optString,
});

/** A DARTS-ADA rollback (older lines may lack `action`). */
export const adaRollbackLineSchema = z.looseObject({
  kind: z.literal('ada'),
  epoch: epochField,
  action: z.literal('rollback').optional(),
  toEpoch: epochField,
  previousL2: optNum,
  newL2: optNum,
  iteration: iterField,
  reason: optString,
});

/** A trigger DARTS-ADA ignored (its L2 is final): no rollback, no target epoch. */
export const adaIgnoreLineSchema = z.looseObject({
  kind: z.literal('ada'),
  epoch: epochField,
  iteration: iterField,
  action: z.literal('ignore'),
  reason: optString,
  l2: optNum,
});

export const dartsEsGenotypeLineSchema = z.looseObject({
  kind: z.literal('darts-es-genotype'),
  epoch: epochField,
  iteration: iterField,
  stopEpoch: epochField.nullable().optional(),
  repr: optString,
});

export const divergedLineSchema = z.looseObject({
  kind: z.literal('diverged'),
  epoch: epochField,
  iteration: iterField,
  step: optInt,
  loss: z.union([z.string(), z.number()]).nullable().optional(),
  lr: optNum,
});

export const rswsSelectionLineSchema = z.looseObject({
  kind: z.literal('rsws-selection'),
  epoch: epochField,
  iteration: iterField,
  samples: optInt,
  scoreBatches: optInt,
  fullImages: optInt,
  trainDraws: optInt,
  top: z.array(z.looseObject({ rank: optInt, sample: optInt, scoreError: optNum, fullError: optNum, repr: optString, genotype: z.unknown() })).optional(),
  chosen: z.looseObject({ rank: optInt, sample: optInt, fullError: optNum }).nullable().optional(),
  seconds: optNum,
});

export const discretizationLineSchema = z.looseObject({
  kind: z.literal('discretization'),
  epoch: epochField,
  iteration: iterField,
  softAcc: optNum,
  discreteAcc: optNum,
  drop: optNum,
  softLoss: optNum,
  discreteLoss: optNum,
  genotype: z.unknown().optional(),
  seconds: optNum,
});

const perCell = z.looseObject({ normal: optNum, reduce: optNum });

/** The collapse monitor's indicators (search/methods/collapse-metrics.ts). */
export const collapseLineSchema = z.looseObject({
  kind: z.literal('collapse'),
  epoch: epochField,
  iteration: iterField,
  paramFreeMass: perCell.nullable().optional(),
  entropy: perCell.nullable().optional(),
  skips: perCell.nullable().optional(),
  churn: perCell.nullable().optional(),
  accGap: optNum,
});

/** S5 test regret against a ground-truth table (search/methods/s5-regret.ts). */
export const s5RegretLineSchema = z.looseObject({
  kind: z.literal('s5-regret'),
  epoch: epochField,
  iteration: iterField,
  source: optString,
  key: optString,
  testError: optNum,
  bestTestError: optNum,
  regret: optNum,
  rank: optInt.nullable(),
  complete: z.boolean().optional(),
  oneShotValidError: optNum,
});

/** The schemas of each kind (DARTS-ADA's 'ada' lines: rollback and ignore). */
export const METRICS_LINE_SCHEMAS = {
  epoch: [epochLineSchema],
  hessian: [hessianLineSchema],
  'early-stop-check': [earlyStopCheckLineSchema],
  'early-stop': [earlyStopLineSchema],
  ada: [adaRollbackLineSchema, adaIgnoreLineSchema],
  'darts-es-genotype': [dartsEsGenotypeLineSchema],
  diverged: [divergedLineSchema],
  'rsws-selection': [rswsSelectionLineSchema],
  discretization: [discretizationLineSchema],
  collapse: [collapseLineSchema],
  's5-regret': [s5RegretLineSchema],
} as const satisfies Record<MetricsKind, readonly z.ZodType[]>;

export function isMetricsKind(kind: string): kind is MetricsKind {
  return Object.hasOwn(METRICS_LINE_SCHEMAS, kind);
}

// ---------------------------------------------------------------------------------------------
// genotypes.jsonl and result.json

const matrix = z.array(z.array(num));
const stringMatrix = z.array(z.array(z.string()));

export const genotypeLineSchema = z.looseObject({
  epoch: epochField,
  iteration: iterField,
  genotype: z.unknown(),
  repr: z.string().optional(),
  alphas: z.looseObject({ normal: matrix, reduce: matrix }).nullable().optional(),
  ops: z.looseObject({ normal: stringMatrix, reduce: stringMatrix }).nullable().optional(),
});

/**
 * result.json of a search or a grid, as the readers take it: a field of the wrong type reads
 * as absent (null), the genotype is validated by whoever uses it.
 */
export const resultSchema = z.looseObject({
  genotype: z.unknown().optional(),
  repr: z.string().nullable().optional().catch(null),
  stopReason: z.string().nullable().optional().catch(null),
  genotypeEpoch: z.number().nullable().optional().catch(null),
  epochsRun: z.number().nullable().optional().catch(null),
  /** not written by the search (it writes epochsRun); read for older or hand-made files */
  epochs: z.number().nullable().optional().catch(null),
  finalValid: z.looseObject({ loss: z.number().nullable().optional(), acc: z.number().nullable().optional() }).nullable().optional().catch(null),
  discretization: z.looseObject({ softAcc: z.number(), discreteAcc: z.number(), drop: z.number() }).nullable().optional().catch(null),
});
export type ResultFields = z.output<typeof resultSchema>;

/** One zod issue as 'path: message' (and how many more there are). */
export function issueText(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'invalid';
  const path = first.path.length ? first.path.map(String).join('.') : '(line)';
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem(s))` : '';
  return `${path}: ${first.message}${more}`;
}

// ---------------------------------------------------------------------------------------------
// Compile-time: what the search writes fits what the readers accept.

type Fits<T, S extends z.ZodType> = [T] extends [z.input<S>] ? true : false;
const writtenFitsRead: {
  epoch: Fits<EpochLine, typeof epochLineSchema>;
  hessian: Fits<HessianLine, typeof hessianLineSchema>;
  earlyStopCheck: Fits<EarlyStopCheckLine, typeof earlyStopCheckLineSchema>;
  earlyStop: Fits<EarlyStopLine, typeof earlyStopLineSchema>;
  adaRollback: Fits<AdaRollbackLine, typeof adaRollbackLineSchema>;
  adaIgnore: Fits<AdaIgnoreLine, typeof adaIgnoreLineSchema>;
  dartsEsGenotype: Fits<DartsEsGenotypeLine, typeof dartsEsGenotypeLineSchema>;
  diverged: Fits<DivergedLine, typeof divergedLineSchema>;
  rswsSelection: Fits<RswsSelectionLine, typeof rswsSelectionLineSchema>;
  discretization: Fits<DiscretizationLine, typeof discretizationLineSchema>;
  collapse: Fits<CollapseLine, typeof collapseLineSchema>;
  s5Regret: Fits<S5RegretLine, typeof s5RegretLineSchema>;
  genotype: Fits<GenotypeLine, typeof genotypeLineSchema>;
  result: Fits<SearchResultRecord, typeof resultSchema>;
} = {
  epoch: true,
  hessian: true,
  earlyStopCheck: true,
  earlyStop: true,
  adaRollback: true,
  adaIgnore: true,
  dartsEsGenotype: true,
  diverged: true,
  rswsSelection: true,
  discretization: true,
  collapse: true,
  s5Regret: true,
  genotype: true,
  result: true,
};
void writtenFitsRead;

/** A JSON file's object, or null when the file is missing or not valid JSON (for indexes and tables that skip unfinished runs). */
export function readJsonObjectOrNull(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}
