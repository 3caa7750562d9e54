/**
 * The readers' view of a recurrent-cell search folder (docs/lm.md#run-folders): the schemas of
 * its own epoch line, genotype line and result record (the Hessian, early-stop, ADA and
 * divergence lines use run-format.ts's schemas), a reader of its metrics, and the compile-time
 * check that what search/rnn writes fits them.
 */
import { z } from 'zod';
import type { RnnEpochLine, RnnGenotypeLine, RnnSearchResultRecord } from '../search/rnn/run-lines.js';
import { RUN_FILES, isMetricsKind, METRICS_LINE_SCHEMAS, issueText, readJsonLinesFile, type JsonLine } from './run-format.js';
import { join } from 'node:path';
import { CheckpointError } from '../errors.js';

const num = z.number().finite();
const optNum = num.nullable().optional();
const epochField = z.number().int().nonnegative();
const lossPpl = z.looseObject({ loss: optNum, ppl: optNum }).nullable().optional();

export const rnnEpochLineSchema = z.looseObject({
  kind: z.literal('epoch'),
  epoch: epochField,
  iteration: epochField.optional(),
  lr: optNum,
  l2: optNum,
  steps: epochField.optional(),
  tokens: epochField.optional(),
  train: lossPpl,
  valid: lossPpl,
  seconds: optNum,
});

export const rnnGenotypeLineSchema = z.looseObject({
  epoch: epochField,
  iteration: epochField.optional(),
  space: z.literal('rnn'),
  genotype: z.unknown(),
  repr: z.string().optional(),
  alphas: z.array(z.array(num)).nullable().optional(),
  ops: z.array(z.string()).nullable().optional(),
});

export const rnnResultSchema = z.looseObject({
  space: z.literal('rnn'),
  genotype: z.unknown().optional(),
  repr: z.string().nullable().optional().catch(null),
  stopReason: z.string().nullable().optional().catch(null),
  genotypeEpoch: z.number().nullable().optional().catch(null),
  epochsRun: z.number().nullable().optional().catch(null),
  finalValid: z.looseObject({ loss: z.number().nullable().optional(), ppl: z.number().nullable().optional() }).nullable().optional().catch(null),
});

/** Is this config.json / result.json object one of a recurrent search? */
export function isRnnRecord(o: Record<string, unknown> | null | undefined): boolean {
  return o?.space === 'rnn';
}

/** A recurrent run's metrics.jsonl: every line checked against its kind's schema (unknown kinds skipped). */
export function readRnnMetrics(dir: string, onWarning?: (m: string) => void): JsonLine[] {
  const path = join(dir, RUN_FILES.metrics);
  const lines = readJsonLinesFile(path, {
    missingOk: true,
    error: (line, what) => new CheckpointError(`${path}, line ${line}: ${what}`),
    onIncompleteLast: (line) => onWarning?.(`${path}, line ${line}: incomplete last line skipped`),
  });
  const out: JsonLine[] = [];
  for (const l of lines) {
    const kind = String(l.value.kind);
    const schemas = kind === 'epoch' ? [rnnEpochLineSchema] : isMetricsKind(kind) ? METRICS_LINE_SCHEMAS[kind] : null;
    if (!schemas) {
      onWarning?.(`${path}, line ${l.line}: unknown kind '${kind}' skipped`);
      continue;
    }
    const results = schemas.map((s) => s.safeParse(l.value));
    if (!results.some((r) => r.success)) throw new CheckpointError(`${path}, line ${l.line}: ${issueText((results[0] as { error: z.ZodError }).error)}`);
    out.push(l);
  }
  return out;
}

type Fits<T, S extends z.ZodType> = [T] extends [z.input<S>] ? true : false;
const writtenFitsRead: {
  epoch: Fits<RnnEpochLine, typeof rnnEpochLineSchema>;
  genotype: Fits<RnnGenotypeLine, typeof rnnGenotypeLineSchema>;
  result: Fits<RnnSearchResultRecord, typeof rnnResultSchema>;
} = { epoch: true, genotype: true, result: true };
void writtenFitsRead;
