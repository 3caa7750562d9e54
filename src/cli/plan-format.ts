/**
 * The planner's CLI side shared by `rdarts plan` and `rdarts search --plan / --batch-size auto`
 * (docs/planner.md): flags → plan, and the text form.
 */
import { totalmem } from 'node:os';
import { planSearch, type SearchPlan } from '../experiments/plan.js';
import { planTraining, type TrainingPlan } from '../experiments/plan-train.js';
import type { EvalConfig } from '../search/eval-config.js';
import { formatBytes, formatDuration, parseMemory, type MemoryForecast } from '../experiments/plan-model.js';
import { ConfigError } from '../errors.js';
import type { SearchConfig } from '../search/config.js';

export interface PlanFlags {
  memoryLimit?: string;
  calibrationSteps?: number;
}

export function memoryLimitOf(f: PlanFlags): number | null {
  if (f.memoryLimit === undefined) return null;
  try {
    return parseMemory(f.memoryLimit);
  } catch (e) {
    throw new ConfigError(`--memory-limit: ${(e as Error).message}`);
  }
}

/** The planner's options from the flags: the memory limit (with --batch-size auto, 80% of RAM by default), calibration steps, notes on stderr unless quiet. */
function plannerOptions(f: PlanFlags & { batchSize?: number | 'auto'; quiet?: boolean }): { memoryLimitBytes: number | null; auto: boolean; steps?: number; onNote?: (m: string) => void } {
  const auto = f.batchSize === 'auto';
  let limit = memoryLimitOf(f);
  if (auto && limit === null) limit = Math.floor(0.8 * totalmem());
  return {
    memoryLimitBytes: limit,
    auto,
    ...(f.calibrationSteps !== undefined ? { steps: f.calibrationSteps } : {}),
    ...(f.quiet ? {} : { onNote: (m: string) => process.stderr.write(`  ${m}\n`) }),
  };
}

/** The memory line of a plan: predicted peak, its parts, and against the limit when there is one. */
function memoryLine(pl: MemoryForecast & { batchSize: number }): string {
  return (
    `predicted peak memory ${formatBytes(pl.peakBytes)} (fixed ${formatBytes(pl.fixedBytes)} + ${formatBytes(pl.perSampleBytes)}/image × ${pl.batchSize})` +
    (pl.memoryLimitBytes !== null ? `; limit ${formatBytes(pl.memoryLimitBytes)}: ${pl.fits ? 'fits' : 'DOES NOT FIT'}, largest batch that fits ${pl.maxBatchSize}` : '')
  );
}

/** The stderr line that says which batch size `--batch-size auto` chose. */
export function autoBatchNote(p: { config: { batchSize: number }; plan: MemoryForecast }): string {
  return `--batch-size auto: ${p.config.batchSize} (predicted peak ${(p.plan.peakBytes / 2 ** 30).toFixed(2)} GiB of ${((p.plan.memoryLimitBytes ?? 0) / 2 ** 30).toFixed(2)} GiB)\n`;
}

/** The plan for `cfg` as the CLI computes it (progress on stderr unless quiet). */
export async function planFromFlags(cfg: SearchConfig, f: PlanFlags & { batchSize?: number | 'auto'; quiet?: boolean }): Promise<SearchPlan> {
  return planSearch(cfg, plannerOptions(f));
}

export function formatPlan(p: SearchPlan): string {
  const c = p.config;
  const k = p.calibration;
  const s = p.shape;
  const pl = p.plan;
  const lines = [
    `plan: ${c.method} on ${c.space} / ${c.dataset}, ${c.layers} cells C${c.channels}, ${c.order} order, batch ${c.batchSize}${p.autoBatchSize !== null ? ' (auto)' : ''}, ${c.epochs} epochs, device ${c.device}`,
    `calibration (${k.steps} steps at batch ${k.batchSize}, ${k.threads} threads): arch step ${k.archStepS.toFixed(3)} s, weight step ${k.weightStepS.toFixed(3)} s, validation ${k.evalBatchS.toFixed(3)} s/batch` +
      (k.hessianS !== null ? `, Hessian ${k.hessianS.toFixed(3)} s (${k.hessianHvps} HVPs)` : ''),
    `run: ${s.epochs} epochs × ${s.stepsPerEpoch} steps, ${s.valBatches} validation batches per epoch, λ_max at ${s.hessianEpochs} epochs × ${s.hessianBatches} batch(es)` +
      (s.members > 1 ? `, ${s.members} grid searches` : '') +
      (s.adaRollbacks > 0 ? `, DARTS-ADA ≤ ${s.adaRollbacks} rollbacks of ≤ ${s.rewindEpochs} epochs` : ''),
    `predicted step ${formatDuration(pl.stepS)}, epoch ${formatDuration(pl.epochS)} (validation pass ${formatDuration(pl.validationPassS)}), Hessian measurement ${formatDuration(pl.hessianMeasurementS)}`,
    `predicted total ${formatDuration(pl.totalS)} (steps ${formatDuration(pl.parts.stepsS)}, validation ${formatDuration(pl.parts.validationS)}, Hessian ${formatDuration(pl.parts.hessianS)}, discretisation ${formatDuration(pl.parts.discretizationS)}` +
      (pl.parts.selectionS > 0 ? `, rs-ws selection ${formatDuration(pl.parts.selectionS)}` : '') +
      `)` +
      (pl.worstCaseS > pl.totalS ? `; worst case ${formatDuration(pl.worstCaseS)}` : c.method === 'darts-es' ? '; early stopping can only shorten it' : ''),
    memoryLine(pl),
  ];
  return lines.join('\n') + '\n';
}

/** The training plan for `cfg` (rdarts train --plan / --batch-size auto). */
export async function trainPlanFromFlags(cfg: EvalConfig, f: PlanFlags & { batchSize?: number | 'auto'; quiet?: boolean }): Promise<TrainingPlan> {
  return planTraining(cfg, plannerOptions(f));
}

export function formatTrainPlan(p: TrainingPlan): string {
  const c = p.config;
  const k = p.calibration;
  const s = p.shape;
  const pl = p.plan;
  return (
    [
      `plan: train on ${c.dataset}, ${c.layers} cells C${c.channels}${c.auxiliary ? ' + auxiliary head' : ''}, batch ${c.batchSize}${p.autoBatchSize !== null ? ' (auto)' : ''}, ${c.epochs} epochs, device ${c.device}`,
      `calibration (${k.steps} steps at batch ${k.batchSize}, ${k.threads} threads): step ${k.stepS.toFixed(3)} s, evaluation ${k.evalBatchS.toFixed(3)} s/batch`,
      `run: ${s.epochs} epochs × ${s.stepsPerEpoch} steps, ${s.evalPasses} evaluation passes of ${s.evalBatches} batches`,
      `predicted step ${formatDuration(pl.stepS)} (${pl.imagesPerSecond.toFixed(1)} images/s), epoch ${formatDuration(pl.epochS)}, evaluation pass ${formatDuration(pl.evalPassS)}, total ${formatDuration(pl.totalS)}`,
      memoryLine(pl),
    ].join('\n') + '\n'
  );
}
