import { tidy, type Tensor } from '../../torch/index.js';
import { AlphaHessian, dominantEigenvalues, type ArchModel } from '../../analysis/hessian.js';
import { mean, standardError } from '../../analysis/stats.js';
import { Rng } from '../../util/rng.js';
import type { HessianMeasurement, SearchPlugin } from '../plugin.js';
import type { EpochLogLine } from '../run-lines.js';

/**
 * What the monitor reads at an epoch's end: the CNN search's EpochContext, or the disparity
 * search's (search/disp/trainer.ts), which hands out stereo batches.
 */
export interface HessianContext {
  epoch: number;
  epochs: number;
  hessian: HessianMeasurement | null;
  model: ArchModel & { loss(x: Tensor, y: Tensor): Tensor; training: boolean; train(mode?: boolean): unknown };
  /** a random validation batch, in the caller's scope */
  valBatch(): { x: Tensor; y: Tensor };
  log(line: EpochLogLine): void;
  note(message: string): void;
}

export interface HessianMonitorOptions {
  every: number;
  method: 'lanczos' | 'full';
  topK: number;
  batches: number;
  /** add this·I (the α weight decay), as the reference's logged Hessians do */
  shift: number;
  lanczosIterations: number;
  lanczosTol: number;
  /** Lanczos stopping rule (analysis/hessian.ts DominantOptions.converge; default 'top-k') */
  converge?: 'top-k' | 'lambda-max';
  /** start from the previous measurement's λ_max vector (docs/hessian.md#lanczos) */
  warmStart?: boolean;
  seed: number;
}

/** The monitor's options from a search configuration's `hessian` group (CNN, recurrent and S6 searches alike). */
export function hessianMonitorOptions(cfg: { hessian: { method: 'lanczos' | 'full'; topK: number; batches: number; includeWeightDecay: boolean; lanczosIterations: number; lanczosTol: number; converge?: 'top-k' | 'lambda-max'; warmStart?: boolean }; archWeightDecay: number; seed: number }, every: number): HessianMonitorOptions {
  const h = cfg.hessian;
  return { every, method: h.method, topK: h.topK, batches: h.batches, shift: h.includeWeightDecay ? cfg.archWeightDecay : 0, lanczosIterations: h.lanczosIterations, lanczosTol: h.lanczosTol, converge: h.converge ?? 'top-k', warmStart: h.warmStart ?? false, seed: cfg.seed };
}

/**
 * Measures the dominant eigenvalue of ∇²α L_val at the end of every `every`-th epoch and the
 * last one (docs/hessian.md#batch-and-model-mode): on a random validation batch, with the model in train mode
 * (batch statistics, this epoch's drop path), exact Hessian-vector products, Lanczos by default.
 * With several batches it reports the mean and its standard error.
 */
export class HessianMonitor implements SearchPlugin {
  readonly name = 'hessian';
  trace: Array<{ epoch: number; maxEigenvalue: number }> = [];
  /** warm start: the last measurement's λ_max Ritz vector (in the checkpointed state, so a resume starts where the run would) */
  private lastVector: number[] | null = null;
  constructor(readonly o: HessianMonitorOptions) {}

  /** The start vector of a warm-started run: the last λ_max vector plus 1 % of a seeded random direction (so it keeps a component along every eigenvector, and an eigenvalue that has overtaken the old top one is still found). */
  private startVector(rng: Rng): Float64Array | undefined {
    if (!this.o.warmStart || this.o.method !== 'lanczos' || !this.lastVector) return undefined;
    const v = Float64Array.from(this.lastVector);
    const r = Float64Array.from(v, () => rng.normal());
    let nr = 0;
    for (const x of r) nr += x * x;
    const f = 0.01 / Math.sqrt(nr);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! + f * r[i]!;
    return v;
  }

  due(epoch: number, epochs: number): boolean {
    return this.o.every > 0 && (epoch % this.o.every === 0 || epoch === epochs - 1);
  }

  async onEpochEnd(ctx: HessianContext): Promise<void> {
    if (!this.due(ctx.epoch, ctx.epochs)) return;
    const t0 = performance.now();
    const model = ctx.model;
    const wasTraining = model.training;
    model.train();
    const per: Array<{ max: number; min: number | null; top: number[]; calls: number }> = [];
    try {
      for (let b = 0; b < this.o.batches; b++) {
        const batch = tidy(() => ctx.valBatch());
        const h = new AlphaHessian(model, () => model.loss(batch.x, batch.y), this.o.shift);
        try {
          const rng = new Rng(this.o.seed * 7919 + ctx.epoch * 31 + b);
          const start = this.startVector(rng);
          const r = await dominantEigenvalues(h, {
            method: this.o.method,
            topK: this.o.topK,
            maxIter: this.o.lanczosIterations,
            tol: this.o.lanczosTol,
            converge: this.o.converge ?? 'top-k',
            rng,
            ...(start ? { start } : {}),
            ...(this.o.warmStart ? { returnVector: true } : {}),
          });
          if (b === 0 && r.topVector && r.topVector.length === h.n) this.lastVector = Array.from(r.topVector);
          per.push({ max: r.maxEigenvalue, min: r.minEigenvalue, top: r.eigenvalues, calls: r.operatorCalls });
        } finally {
          h.dispose();
          batch.x.dispose();
          batch.y.dispose();
        }
      }
    } finally {
      model.train(wasTraining);
    }
    const maxes = per.map((p) => p.max);
    const m: HessianMeasurement = {
      epoch: ctx.epoch,
      maxEigenvalue: mean(maxes),
      minEigenvalue: per[0]!.min,
      eigenvalues: per[0]!.top,
      stderr: per.length > 1 ? standardError(maxes) : null,
      batches: per.length,
      method: this.o.method,
      shift: this.o.shift,
      operatorCalls: per.reduce((a, p) => a + p.calls, 0),
      seconds: (performance.now() - t0) / 1000,
    };
    ctx.hessian = m;
    this.trace.push({ epoch: ctx.epoch, maxEigenvalue: m.maxEigenvalue });
    ctx.log({ kind: 'hessian', ...m, perBatch: per.length > 1 ? maxes : undefined });
    ctx.note(`epoch ${ctx.epoch}: dominant Hessian eigenvalue ${m.maxEigenvalue.toPrecision(4)}${m.stderr !== null ? ` ± ${m.stderr.toPrecision(2)}` : ''} (${m.method}, ${m.operatorCalls} HVPs, ${m.seconds.toFixed(1)} s)`);
  }

  getState(): unknown {
    return this.lastVector ? { trace: this.trace, lastVector: this.lastVector } : { trace: this.trace };
  }
  setState(s: unknown): void {
    const st = s as { trace: Array<{ epoch: number; maxEigenvalue: number }>; lastVector?: number[] };
    this.trace = [...(st.trace ?? [])];
    this.lastVector = Array.isArray(st.lastVector) ? [...st.lastVector] : null;
  }
}
