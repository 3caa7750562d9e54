/**
 * Reading a run folder (DESIGN "Files a run leaves") for reports: config.json, metrics.jsonl,
 * genotypes.jsonl and result.json, parsed and validated line by line.
 *
 * Tolerance: unknown fields are kept or ignored, optional fields may be missing, metric values
 * may be null (a diverged run), lines of unknown `kind` are skipped (counted in `warnings`), and
 * a final line without a trailing newline that is not valid JSON is taken as a write in
 * progress and skipped with a warning. Anything else malformed is a CheckpointError naming the
 * file and the 1-based line.
 *
 * `iteration` (DARTS-ADA restarts) defaults, when a line lacks it, to the number of ADA
 * rollbacks seen before that line (metrics.jsonl) or to the number of times the epoch went
 * backwards (genotypes.jsonl).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { CheckpointError, RdartsError } from '../errors.js';
import { softmaxRows } from '../nas/derive.js';
import type { Genotype } from '../nas/genotype.js';
import { genotypeFromJSON } from '../nas/genotype-json.js';
import { formatGenotypeRepr } from '../nas/repr.js';
import { getSpace, hasSpace, type CellType } from '../nas/spaces.js';
import {
  RUN_FILES,
  adaRollbackLineSchema,
  collapseLineSchema,
  s5RegretLineSchema,
  discretizationLineSchema,
  earlyStopLineSchema,
  epochLineSchema,
  genotypeLineSchema,
  hessianLineSchema,
  isMetricsKind,
  issueText,
  readJsonLinesFile,
  resultSchema,
  type JsonLine,
} from './run-format.js';

// ---------------------------------------------------------------------------------------------
// Record types (after validation, defaults filled in): defined where reports consume them

import type {
  AdaRollbackRecord,
  CellAlphas,
  CollapseRecord,
  DiscretizationRecord,
  S5RegretRecord,
  EarlyStopEvent,
  EigenvalueRecord,
  EpochRecord,
  GenotypeRecord,
  Run,
  RunMetrics,
  RunResult,
  SplitMetrics,
} from '../analysis/report/records.js';
export type { AdaRollbackRecord, CellAlphas, CollapseRecord, S5RegretRecord, DiscretizationRecord, EarlyStopEvent, EigenvalueRecord, EpochRecord, GenotypeRecord, Run, RunResult, SplitMetrics };

const RUN_HINT = 'a run folder holds config.json, metrics.jsonl and genotypes.jsonl as written by `rdarts search`; fix or remove the offending line, or re-run the search';

function fileError(file: string, line: number | null, what: string): CheckpointError {
  return new CheckpointError(`${file}${line !== null ? `, line ${line}` : ''}: ${what}`, RUN_HINT);
}

// ---------------------------------------------------------------------------------------------
// JSON lines

function readJsonLines(path: string, warnings: string[]): JsonLine[] {
  return readJsonLinesFile(path, {
    error: (line, what) => fileError(path, line, what),
    onIncompleteLast: (line) => warnings.push(`${basename(path)}, line ${line}: incomplete last line skipped (a write in progress?)`),
  });
}

function readJsonObject(path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw fileError(path, null, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw fileError(path, null, 'expected a JSON object');
  return v as Record<string, unknown>;
}

function split2(s: { loss?: number | null; acc?: number | null } | null | undefined): SplitMetrics {
  return { loss: s?.loss ?? null, acc: s?.acc ?? null };
}

// ---------------------------------------------------------------------------------------------
// metrics.jsonl

type MetricsPart = RunMetrics;

function parseMetrics(path: string, warnings: string[]): MetricsPart {
  const part: MetricsPart = { epochs: [], hessians: [], earlyStops: [], adaEvents: [], discretizations: [], collapses: [], regrets: [] };
  const unknownKinds = new Map<string, number>();
  let rollbacks = 0;
  for (const { line, value } of readJsonLines(path, warnings)) {
    const kind = value.kind;
    if (typeof kind !== 'string') throw fileError(path, line, `missing "kind" (expected "epoch", "hessian", "early-stop", "ada" or "discretization")`);
    const parse = <T>(schema: z.ZodType<T>): T => {
      const r = schema.safeParse(value);
      if (!r.success) throw fileError(path, line, `${kind} line: ${issueText(r.error)}`);
      return r.data;
    };
    switch (kind) {
      case 'epoch': {
        const o = parse(epochLineSchema);
        part.epochs.push({
          epoch: o.epoch,
          iteration: o.iteration ?? rollbacks,
          lr: o.lr ?? null,
          l2: o.l2 ?? null,
          dropPath: o.dropPath ?? null,
          train: split2(o.train),
          valid: split2(o.valid ?? o.test),
          evalSplit: o.valid == null && o.test != null ? 'test' : 'validation',
          seconds: o.seconds ?? null,
          line,
        });
        break;
      }
      case 'hessian': {
        const o = parse(hessianLineSchema);
        part.hessians.push({
          epoch: o.epoch,
          iteration: o.iteration ?? rollbacks,
          maxEigenvalue: o.maxEigenvalue,
          eigenvalues: o.eigenvalues ?? [],
          minEigenvalue: o.minEigenvalue ?? null,
          method: o.method ?? null,
          shift: o.shift ?? 0,
          line,
        });
        break;
      }
      case 'early-stop': {
        const o = parse(earlyStopLineSchema);
        part.earlyStops.push({ epoch: o.epoch, iteration: o.iteration ?? rollbacks, rule: o.rule ?? null, detectEpoch: o.detectEpoch ?? o.epoch, stopEpoch: o.stopEpoch ?? null, line });
        break;
      }
      case 'ada': {
        // a trigger DARTS-ADA ignored (its L2 is final) starts no iteration and has no target epoch
        if (value.action !== undefined && value.action !== 'rollback') break;
        const o = parse(adaRollbackLineSchema);
        // the writer's `iteration` may name the iteration rolled back or the one that follows;
        // either way the run continues with the next one
        rollbacks = Math.max(rollbacks + 1, o.iteration ?? 0);
        part.adaEvents.push({
          epoch: o.epoch,
          action: o.action ?? 'rollback',
          toEpoch: o.toEpoch,
          previousL2: o.previousL2 ?? null,
          newL2: o.newL2 ?? null,
          iteration: rollbacks,
          line,
        });
        break;
      }
      case 'discretization': {
        const o = parse(discretizationLineSchema);
        part.discretizations.push({ epoch: o.epoch, iteration: o.iteration ?? rollbacks, softAcc: o.softAcc ?? null, discreteAcc: o.discreteAcc ?? null, drop: o.drop ?? null, line });
        break;
      }
      case 'collapse': {
        const o = parse(collapseLineSchema);
        const cells = (v: { normal?: number | null; reduce?: number | null } | null | undefined) => ({ normal: v?.normal ?? null, reduce: v?.reduce ?? null });
        part.collapses.push({
          epoch: o.epoch,
          iteration: o.iteration ?? rollbacks,
          paramFreeMass: cells(o.paramFreeMass),
          entropy: cells(o.entropy),
          skips: cells(o.skips),
          churn: o.churn ? cells(o.churn) : null,
          accGap: o.accGap ?? null,
          line,
        });
        break;
      }
      case 's5-regret': {
        const o = parse(s5RegretLineSchema);
        part.regrets.push({ epoch: o.epoch, iteration: o.iteration ?? rollbacks, source: o.source ?? null, key: o.key ?? null, regret: o.regret ?? null, testError: o.testError ?? null, oneShotValidError: o.oneShotValidError ?? null, line });
        break;
      }
      default:
        // lines the search writes that the report does not draw
        if (!isMetricsKind(kind)) unknownKinds.set(kind, (unknownKinds.get(kind) ?? 0) + 1);
    }
  }
  for (const [k, n] of unknownKinds) warnings.push(`${RUN_FILES.metrics}: ${n} line(s) of unknown kind "${k}" skipped`);
  return part;
}

// ---------------------------------------------------------------------------------------------
// genotypes.jsonl

function isDistribution(row: number[]): boolean {
  const s = row.reduce((a, b) => a + b, 0);
  return row.every((x) => x >= 0 && x <= 1) && Math.abs(s - 1) < 1e-3;
}

function cellAlphas(
  path: string,
  line: number,
  cell: CellType,
  weights: number[][],
  lineOps: string[][] | undefined,
  spaceOps: string[][] | undefined,
): CellAlphas {
  let ops: string[][] | null = null;
  for (const cand of [lineOps, spaceOps]) {
    if (!cand) continue;
    const fits = cand.length === weights.length && cand.every((r, e) => r.length === weights[e]!.length);
    if (fits) {
      ops = cand;
      break;
    }
    if (cand === lineOps) {
      throw fileError(path, line, `ops.${cell} does not have the shape of alphas.${cell} (${weights.map((r) => r.length).join(',')} ops per edge)`);
    }
  }
  const probs = weights.every(isDistribution);
  return { weights: probs ? weights : softmaxRows(weights), ops, softmaxApplied: !probs };
}

function parseGenotypes(path: string, spaceName: unknown, warnings: string[]): GenotypeRecord[] {
  let space: { normal: string[][]; reduce: string[][] } | undefined;
  if (typeof spaceName === 'string' && hasSpace(spaceName)) {
    try {
      space = getSpace(spaceName);
    } catch {
      space = undefined;
    }
  }
  const out: GenotypeRecord[] = [];
  let iteration = 0;
  let lastEpoch = -1;
  for (const { line, value } of readJsonLines(path, warnings)) {
    const r = genotypeLineSchema.safeParse(value);
    if (!r.success) throw fileError(path, line, issueText(r.error));
    const o = r.data;
    let genotype: Genotype;
    try {
      genotype = genotypeFromJSON(o.genotype, 'genotype');
    } catch (e) {
      throw fileError(path, line, e instanceof RdartsError ? e.message : String(e));
    }
    if (o.iteration !== undefined) iteration = o.iteration;
    else if (o.epoch <= lastEpoch) iteration += 1;
    lastEpoch = o.epoch;
    let alphas: GenotypeRecord['alphas'] = null;
    if (o.alphas) {
      alphas = {
        normal: cellAlphas(path, line, 'normal', o.alphas.normal, o.ops?.normal, space?.normal),
        reduce: cellAlphas(path, line, 'reduce', o.alphas.reduce, o.ops?.reduce, space?.reduce),
      };
    }
    out.push({ epoch: o.epoch, iteration, genotype, repr: o.repr ?? formatGenotypeRepr(genotype), alphas, line });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// result.json

function parseResult(path: string): RunResult {
  const raw = readJsonObject(path);
  const r = resultSchema.parse(raw);
  let genotype: Genotype | null = null;
  if (r.genotype !== undefined && r.genotype !== null) {
    try {
      genotype = genotypeFromJSON(r.genotype, 'genotype');
    } catch (e) {
      throw fileError(path, null, e instanceof RdartsError ? e.message : String(e));
    }
  }
  return {
    genotype,
    repr: r.repr ?? (genotype ? formatGenotypeRepr(genotype) : null),
    stopReason: r.stopReason ?? null,
    epochs: r.epochs ?? null,
    raw,
  };
}

// ---------------------------------------------------------------------------------------------

/**
 * Parse and validate a run folder. config.json and metrics.jsonl are required;
 * genotypes.jsonl and result.json are optional (a run in progress has no result.json yet).
 */
export function readRun(dir: string): Run {
  const abs = resolve(dir);
  if (!existsSync(abs)) throw new CheckpointError(`run folder ${dir} does not exist`, 'pass the folder a search wrote (it holds config.json and metrics.jsonl)');
  if (!statSync(abs).isDirectory()) throw new CheckpointError(`${dir} is not a folder`, 'pass a run folder (it holds config.json and metrics.jsonl), not a file inside it');
  const configPath = join(abs, RUN_FILES.config);
  const metricsPath = join(abs, RUN_FILES.metrics);
  const hasConfig = existsSync(configPath);
  const hasMetrics = existsSync(metricsPath);
  if (!hasConfig && !hasMetrics) {
    throw new CheckpointError(`${dir} is not a run folder: it has neither config.json nor metrics.jsonl`, 'pass the folder a search wrote, e.g. runs/<name>');
  }
  if (!hasConfig) throw new CheckpointError(`${configPath} is missing`, `the run folder is incomplete; ${RUN_HINT}`);
  if (!hasMetrics) throw new CheckpointError(`${metricsPath} is missing`, `the run folder is incomplete (did the search write its first epoch?); ${RUN_HINT}`);
  const warnings: string[] = [];
  const config = readJsonObject(configPath);
  const metrics = parseMetrics(metricsPath, warnings);
  const genotypesPath = join(abs, RUN_FILES.genotypes);
  let genotypes: GenotypeRecord[] = [];
  if (existsSync(genotypesPath)) genotypes = parseGenotypes(genotypesPath, config.space, warnings);
  // a from-scratch training (kind 'train') trains one fixed cell: it has no genotype log
  else if (config.kind !== 'train') warnings.push('genotypes.jsonl is missing: no α heatmaps or genotype history');
  const resultPath = join(abs, RUN_FILES.result);
  const result = existsSync(resultPath) ? parseResult(resultPath) : null;
  if (!result) warnings.push('result.json is missing: the run has not finished (or was interrupted)');
  return { dir: abs, name: basename(abs), config, ...metrics, genotypes, result, warnings };
}
