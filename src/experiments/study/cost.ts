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

const work = (w: Pick<StepTime, 'layers' | 'channels' | 'batchSize' | 'imageSize'>): number => w.layers * w.channels ** 2 * w.batchSize * w.imageSize ** 2;

/** Seconds per step of `w` from the table: the nearest entry of its kind, scaled by work (and ops per edge for searches). */
export function secondsPerStep(w: WorkItem, table: StepTimeTable = MEASURED_STEP_TIMES): number {
  const same = table.entries.filter((e) => e.kind === w.kind);
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
  deviceHours: number;
}

/** Device-hours per phase and in total. */
export function estimateCost(g: JobGraph, table: StepTimeTable = MEASURED_STEP_TIMES): { phases: PhaseCost[]; total: Omit<PhaseCost, 'phase'> } {
  const byId = new Map(g.jobs.map((j) => [j.id, j]));
  const acc = new Map<Phase, { steps: number; seconds: number }>(PHASES.map((p) => [p, { steps: 0, seconds: 0 }]));
  for (const phase of PHASES) {
    for (const id of g.phases[phase]) {
      for (const it of byId.get(id)!.work.items) {
        const a = acc.get(it.accountAs ?? phase)!;
        a.steps += it.steps;
        a.seconds += it.steps * secondsPerStep(it, table);
      }
    }
  }
  // a select job's final training counts under train (its jobs are the select jobs)
  const phases = PHASES.map((phase): PhaseCost => ({ phase, jobs: g.phases[phase].length, steps: acc.get(phase)!.steps, deviceHours: acc.get(phase)!.seconds / 3600 }));
  const total = phases.reduce((a, b) => ({ jobs: a.jobs + b.jobs, steps: a.steps + b.steps, deviceHours: a.deviceHours + b.deviceHours }), { jobs: 0, steps: 0, deviceHours: 0 });
  return { phases, total };
}
