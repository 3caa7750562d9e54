/**
 * What the plots and tables need, derived from a parsed run: curve rows, rollbacks, the λ_max
 * trajectory that the final architecture actually went through, spectra to show, α heatmap rows,
 * genotype history and summary figures.
 */
import type { Genotype } from '../../nas/genotype.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import { geneEdge } from '../../nas/spaces.js';
import type { AlphaEdge, CollapsePoint, CurveEpoch, EigenPoint, GenotypeAtEpoch, Spectrum } from '../plots/index.js';
import { edgeText, isDiscarded, type Rollback } from '../plots/style.js';
import { mean } from '../stats.js';
import type { CellAlphas, GenotypeRecord, Run } from './records.js';

/** The genotype the run ends with: result.json's, else the last line of genotypes.jsonl. */
export function finalGenotype(run: Run): { genotype: Genotype; repr: string; source: string } | null {
  if (run.result?.genotype) return { genotype: run.result.genotype, repr: run.result.repr ?? formatGenotypeRepr(run.result.genotype), source: 'result.json' };
  const last = run.genotypes[run.genotypes.length - 1];
  if (last) return { genotype: last.genotype, repr: last.repr, source: `genotypes.jsonl (epoch ${last.epoch})` };
  return null;
}

export function curveRows(run: Run): CurveEpoch[] {
  return run.epochs.map((e) => ({
    epoch: e.epoch,
    iteration: e.iteration,
    trainLoss: e.train.loss,
    validLoss: e.valid.loss,
    trainAcc: e.train.acc,
    validAcc: e.valid.acc,
    heldOut: e.evalSplit,
  }));
}

export function rollbacks(run: Run): Rollback[] {
  return run.adaEvents.map((a) => ({ epoch: a.epoch, toEpoch: a.toEpoch, iteration: a.iteration, previousL2: a.previousL2, newL2: a.newL2 }));
}

/** The collapse monitor's lines as the collapse figure needs them (churn summed over both cells). */
export function collapsePoints(run: Run): CollapsePoint[] {
  return run.collapses.map((c) => ({
    epoch: c.epoch,
    iteration: c.iteration,
    paramFreeNormal: c.paramFreeMass.normal,
    paramFreeReduce: c.paramFreeMass.reduce,
    skipsNormal: c.skips.normal,
    churn: c.churn && c.churn.normal !== null && c.churn.reduce !== null ? c.churn.normal + c.churn.reduce : null,
    accGap: c.accGap,
  }));
}

export function eigenPoints(run: Run): EigenPoint[] {
  return run.hessians.map((h) => ({ epoch: h.epoch, iteration: h.iteration, maxEigenvalue: h.maxEigenvalue }));
}

/**
 * The history that led to the final state, for records keyed by (epoch, iteration): the last
 * iteration's own records, preceded by each earlier iteration's records up to the epoch it was
 * rolled back to.
 */
export function effectiveHistory<T extends { epoch: number; iteration: number }>(records: T[], rbs: Rollback[]): T[] {
  if (records.length === 0) return [];
  const last = Math.max(...records.map((r) => r.iteration), ...rbs.map((r) => r.iteration));
  const out: T[] = [];
  let upTo = Infinity;
  for (let it = last; it >= 0; it--) {
    const own = records.filter((r) => r.iteration === it && r.epoch <= upTo);
    out.unshift(...own.sort((a, b) => a.epoch - b.epoch));
    const rb = rbs.find((r) => r.iteration === it);
    upTo = rb ? Math.min(upTo, rb.toEpoch) : -1;
    if (!rb && it > 0) {
      // no rollback recorded for this iteration: keep earlier iterations' records before its first epoch
      const first = Math.min(...own.map((r) => r.epoch), Infinity);
      upTo = Number.isFinite(first) ? first - 1 : upTo;
    }
  }
  return out;
}

/** Is this (epoch, iteration) record later thrown away by a rollback? */
export { isDiscarded };

/** Up to `count` measurements with eigenvalue lists, spread evenly over the run (first and last included). */
export function pickSpectra(run: Run, count = 5): Spectrum[] {
  const withEv = effectiveHistory(run.hessians, rollbacks(run)).filter((h) => h.eigenvalues.length > 0);
  if (withEv.length === 0) return [];
  const idx = new Set<number>();
  const n = withEv.length;
  for (let i = 0; i < Math.min(count, n); i++) idx.add(Math.round((i * (n - 1)) / Math.max(1, Math.min(count, n) - 1)));
  return [...idx].sort((a, b) => a - b).map((i) => ({ epoch: withEv[i]!.epoch, iteration: withEv[i]!.iteration, eigenvalues: withEv[i]!.eigenvalues }));
}

/** Rows of the α heatmap of one cell type of a genotype record; the genes' ops are marked as chosen. */
export function alphaEdges(rec: GenotypeRecord, cell: 'normal' | 'reduce'): AlphaEdge[] {
  const a: CellAlphas | undefined = rec.alphas?.[cell];
  if (!a) return [];
  const genes = cell === 'normal' ? rec.genotype.normal : rec.genotype.reduce;
  const chosen = new Map<number, string>();
  genes.forEach(([op, src], i) => {
    try {
      chosen.set(geneEdge(i, src), op);
    } catch {
      // a source out of range was already rejected by genotypeFromJSON
    }
  });
  return a.weights.map((w, e) => {
    const ops = a.ops?.[e] ?? w.map((_, k) => `op ${k + 1}`);
    const op = chosen.get(e);
    const k = op === undefined ? -1 : ops.indexOf(op);
    return { label: edgeText(e), ops, weights: w, chosen: k >= 0 ? k : null };
  });
}

/** The genotype after each recorded epoch (genotypes.jsonl), for the genotype-over-epochs figure. */
export function genotypeHistory(run: Run): GenotypeAtEpoch[] {
  return run.genotypes.map((g) => ({ epoch: g.epoch, iteration: g.iteration, cells: { normal: g.genotype.normal, reduce: g.genotype.reduce } }));
}

/** The last genotype record with α. */
export function lastAlphaRecord(run: Run): GenotypeRecord | null {
  for (let i = run.genotypes.length - 1; i >= 0; i--) if (run.genotypes[i]!.alphas) return run.genotypes[i]!;
  return null;
}

export interface RunSummary {
  name: string;
  method: string | null;
  space: string | null;
  dataset: string | null;
  seed: number | null;
  l2: number | null;
  dropPath: number | null;
  stopReason: string | null;
  epochsRun: number;
  iterations: number;
  finalValidAcc: number | null;
  bestValidAcc: number | null;
  finalTrainAcc: number | null;
  /** Mean λ_max over the effective trajectory (what the final architecture went through). */
  meanEigenvalue: number | null;
  finalEigenvalue: number | null;
  hessianCount: number;
  earlyStopEpoch: number | null;
  rollbackCount: number;
  finalDrop: number | null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
function numOr(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function summarize(run: Run): RunSummary {
  const rbs = rollbacks(run);
  const eff = effectiveHistory(run.epochs, rbs);
  const effH = effectiveHistory(run.hessians, rbs);
  const accs = eff.map((e) => e.valid.acc).filter((a): a is number => a !== null);
  const lastEpoch = eff[eff.length - 1];
  const c = run.config;
  const es = run.earlyStops[0];
  const lastDisc = run.discretizations[run.discretizations.length - 1];
  return {
    name: run.name,
    method: str(c.method),
    space: str(c.space),
    dataset: str(c.dataset),
    seed: numOr(c.seed),
    l2: lastEpoch?.l2 ?? numOr(c.l2) ?? numOr(c.weightDecay),
    dropPath: numOr(c.dropPath) ?? numOr(c.dp),
    stopReason: run.result?.stopReason ?? null,
    epochsRun: new Set(eff.map((e) => e.epoch)).size,
    iterations: 1 + Math.max(0, ...run.epochs.map((e) => e.iteration), ...rbs.map((r) => r.iteration)),
    finalValidAcc: lastEpoch?.valid.acc ?? null,
    bestValidAcc: accs.length ? Math.max(...accs) : null,
    finalTrainAcc: lastEpoch?.train.acc ?? null,
    meanEigenvalue: effH.length ? mean(effH.map((h) => h.maxEigenvalue)) : null,
    finalEigenvalue: effH.length ? effH[effH.length - 1]!.maxEigenvalue : null,
    hessianCount: run.hessians.length,
    earlyStopEpoch: es ? es.stopEpoch : null,
    rollbackCount: rbs.length,
    finalDrop: lastDisc?.drop ?? null,
  };
}
