/**
 * Cost estimate of a study before anything is launched (`rdarts study plan`): device-hours per
 * phase = Σ over jobs of steps × seconds per step. Seconds per step come from a small table of
 * step times MEASURED on this project's development machine (below: what, where, how), scaled
 * to each job's network by its convolution work (layers × channels² × batch × pixels — a first
 * approximation, exact only at the measured shapes). The Hessian measurements, the validation
 * passes and RS-ws's scoring are left out (each is small next to the steps, docs/hessian.md#cost).
 * Pure.
 */
import type { JobGraph, Phase, StepShape, WorkItem } from './graph.js';
import { PHASES } from './graph.js';

/** A measured step: its shape and seconds. */
export interface StepTime extends StepShape {
  seconds: number;
}

export interface StepTimeTable {
  machine: string;
  how: string;
  entries: StepTime[];
}

/**
 * Measured 2026-12-01 with `rdarts search` / `rdarts train` on synthetic 32×32 images, 1 thread
 * per job (what the local executor gives 2 workers on 2 cores), as CPU seconds per step (user+sys
 * of the process between progress lines, steps after the first), so the other work on this
 * shared VM does not inflate them; wall time per step was 4–11× higher under that load.
 * s1: mean of steps 2–4 at the paper's size; darts: mean of steps 2–4 at batch 16 (the paper's
 * batch 64 would take ~2 min a step here); trainings: DARTS_V2 at batch 32, mean of steps 2–4.
 * No GPU was available to measure; `rdarts study plan --seconds-per-step` takes a user's own.
 */
export const MEASURED_STEP_TIMES: StepTimeTable = {
  machine: 'development VM, 2 vCPU x86-64 (AVX2), libtorch 1.13 CPU, 1 thread per job',
  how: 'CPU s/step of rdarts search (2nd order) / rdarts train (DARTS_V2) on synthetic 32×32 images, steps after the first',
  entries: [
    { kind: 'search', space: 's1', order: 'second', layers: 8, channels: 16, batchSize: 64, imageSize: 32, seconds: 23.6 },
    { kind: 'search', space: 'darts', order: 'second', layers: 8, channels: 16, batchSize: 16, imageSize: 32, seconds: 30.4 },
    { kind: 'train', space: 'eval', order: null, layers: 8, channels: 16, batchSize: 32, imageSize: 32, seconds: 0.93 },
    { kind: 'train', space: 'eval', order: null, layers: 20, channels: 36, batchSize: 32, imageSize: 32, seconds: 6.6 },
  ],
};

/** Candidate ops per edge of the built-in spaces (their cost driver in the supernet). */
const OPS_PER_EDGE: Record<string, number> = { s1: 2, s2: 2, s3: 3, s4: 2, darts: 8 };

/** Spaces priced only by entries of their own (NaN without one): S6's and the recurrent cell's (rnn) steps are unlike any CNN step. */
const EXACT_SPACES = new Set(['s6', 'rnn']);

const work = (w: Pick<StepTime, 'layers' | 'channels' | 'batchSize' | 'imageSize'>): number => w.layers * w.channels ** 2 * w.batchSize * w.imageSize ** 2;

/** Seconds per step of `w` from the table: the nearest entry of its kind, scaled by work (and ops per edge for searches). */
export function secondsPerStep(w: WorkItem, table: StepTimeTable = MEASURED_STEP_TIMES): number {
  // the disparity space (an encoder–decoder with correlation) is not scaled from the CNN shapes: only its own entries price it
  const same = table.entries.filter((e) => e.kind === w.kind && (EXACT_SPACES.has(w.space) ? e.space === w.space : !EXACT_SPACES.has(e.space)));
  if (!same.length) return NaN;
  let ref: StepTime;
  if (w.kind === 'search') {
    ref = same.find((e) => e.space === w.space) ?? same.find((e) => e.space === 's1') ?? same[0]!;
  } else {
    ref = same.reduce((a, b) => (Math.abs(Math.log(work(b) / work(w))) < Math.abs(Math.log(work(a) / work(w))) ? b : a));
  }
  let s = ref.seconds * (work(w) / work(ref));
  if (w.kind === 'search') {
    const ops = (OPS_PER_EDGE[w.space] ?? 8) / (OPS_PER_EDGE[ref.space] ?? 8);
    if (ref.space !== w.space) s *= ops;
    // a first-order step skips the unrolled virtual step and its two extra passes (≈ ⅓ of a second-order step)
    if (w.order === 'first' && ref.order === 'second') s /= 3;
  }
  return s;
}

export interface PhaseCost {
  phase: Phase;
  jobs: number;
  steps: number;
  /** of the priced steps only */
  deviceHours: number;
  /** steps with no step time in the table (S6 without an entry of its own); absent when 0 */
  unpricedSteps?: number;
}

/** Work the table cannot price: per kind and space, its steps (the plan says the estimate is unavailable for it). */
export interface UnpricedWork {
  kind: 'search' | 'train';
  space: string;
  steps: number;
}

/**
 * Device-hours per phase and in total. Work without a step time in the table (S6 jobs, whose
 * step is not measured) counts in the steps but not in the device-hours: it is reported in
 * `unpriced` (and per phase as `unpricedSteps`), never guessed.
 */
export function estimateCost(g: JobGraph, table: StepTimeTable = MEASURED_STEP_TIMES): { phases: PhaseCost[]; total: Omit<PhaseCost, 'phase'>; unpriced?: UnpricedWork[] } {
  const byId = new Map(g.jobs.map((j) => [j.id, j]));
  const acc = new Map<Phase, { steps: number; seconds: number; unpriced: number }>(PHASES.map((p) => [p, { steps: 0, seconds: 0, unpriced: 0 }]));
  const unpriced = new Map<string, UnpricedWork>();
  for (const phase of PHASES) {
    for (const id of g.phases[phase]) {
      for (const it of byId.get(id)!.work.items) {
        const a = acc.get(it.accountAs ?? phase)!;
        a.steps += it.steps;
        const sps = secondsPerStep(it, table);
        if (Number.isFinite(sps)) a.seconds += it.steps * sps;
        else {
          a.unpriced += it.steps;
          const key = `${it.kind} ${it.space}`;
          const u = unpriced.get(key) ?? { kind: it.kind, space: it.space, steps: 0 };
          u.steps += it.steps;
          unpriced.set(key, u);
        }
      }
    }
  }
  // a select job's final training counts under train (its jobs are the select jobs)
  const phases = PHASES.map((phase): PhaseCost => {
    const a = acc.get(phase)!;
    return { phase, jobs: g.phases[phase].length, steps: a.steps, deviceHours: a.seconds / 3600, ...(a.unpriced ? { unpricedSteps: a.unpriced } : {}) };
  });
  const sum = phases.reduce((a, b) => ({ jobs: a.jobs + b.jobs, steps: a.steps + b.steps, deviceHours: a.deviceHours + b.deviceHours, unpricedSteps: a.unpricedSteps + (b.unpricedSteps ?? 0) }), { jobs: 0, steps: 0, deviceHours: 0, unpricedSteps: 0 });
  const { unpricedSteps, ...rest } = sum;
  const total = unpricedSteps ? sum : rest;
  return unpriced.size ? { phases, total, unpriced: [...unpriced.values()] } : { phases, total };
}
