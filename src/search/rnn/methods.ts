/**
 * The methods of the recurrent-cell search (docs/lm.md#hessian-and-remedies), as plug-ins over the
 * CNN search's pure rules and maths:
 * - the Hessian monitor: ∇²α L_val of the recurrent α ([36, 5] → 180 entries) with exact products
 *   (analysis/hessian.ts AlphaHessian) and Lanczos, on one validation window;
 * - DARTS-ES: the early-stop rules of search/methods/es-rules.ts;
 * - DARTS-ADA: the controller of search/methods/ada-controller.ts (roll back, raise the weight decay).
 * R-DARTS is a loop of searches (experiments/lm-search-run.ts), not a plug-in.
 */
import { noGrad, tidy } from '../../torch/index.js';
import { AlphaHessian, dominantEigenvalues } from '../../analysis/hessian.js';
import { mean, standardError } from '../../analysis/stats.js';
import { formatRnnGenotypeRepr } from '../../nas/rnn/repr.js';
import { Rng } from '../../util/rng.js';
import { AdaPlugin } from '../methods/ada.js';
import { EarlyStopPlugin, earlyStopOptions } from '../methods/es.js';
import type { EarlyStopOptions, EarlyStopRuleName } from '../methods/es-rules.js';
import type { RnnGenotype } from '../../nas/rnn/genotype.js';
import { hessianMonitorOptions, type HessianMonitorOptions } from '../methods/hessian-monitor.js';
import { rnnHessianEvery, type RnnSearchConfig } from './config.js';
import type { HessianMeasurement, PluginDecision, RnnEpochContext, RnnSearchPlugin } from './plugin.js';

/**
 * λ_max of ∇²α L_val at the end of every `every`-th epoch and the last one: one validation window
 * (the α-step's batch size and BPTT length, at a random row, zero initial hidden state), the model
 * in train mode (dropout masks and batch statistics fixed once for all products, as the CNN
 * monitor fixes drop path and batch norm), exact products, Lanczos by default. The batch-norm
 * running statistics touched by the measurement's forward pass are restored afterwards, so the
 * search continues as it would without the measurement (except for libtorch's generator).
 */
export class RnnHessianMonitor implements RnnSearchPlugin {
  readonly name = 'hessian';
  trace: Array<{ epoch: number; maxEigenvalue: number }> = [];
  constructor(readonly o: HessianMonitorOptions) {}

  due(epoch: number, epochs: number): boolean {
    return this.o.every > 0 && (epoch % this.o.every === 0 || epoch === epochs - 1);
  }

  async onEpochEnd(ctx: RnnEpochContext): Promise<void> {
    if (!this.due(ctx.epoch, ctx.epochs)) return;
    const t0 = performance.now();
    const model = ctx.model;
    const wasTraining = model.training;
    const bufs = model.buffers();
    const savedBufs = noGrad(() => bufs.map((b) => b.clone()));
    model.train();
    const per: Array<{ max: number; min: number | null; top: number[]; calls: number }> = [];
    try {
      for (let b = 0; b < this.o.batches; b++) {
        const w = tidy(() => ctx.valWindow());
        const h = new AlphaHessian(model, () => model.loss(w.input, w.target, w.hidden).loss, this.o.shift);
        try {
          const r = await dominantEigenvalues(h, {
            method: this.o.method,
            topK: this.o.topK,
            maxIter: this.o.lanczosIterations,
            tol: this.o.lanczosTol,
            converge: this.o.converge ?? 'top-k',
            rng: new Rng(this.o.seed * 7919 + ctx.epoch * 31 + b),
          });
          per.push({ max: r.maxEigenvalue, min: r.minEigenvalue, top: r.eigenvalues, calls: r.operatorCalls });
        } finally {
          h.dispose();
          w.input.dispose();
          w.target.dispose();
          w.hidden.dispose();
        }
      }
    } finally {
      noGrad(() => bufs.forEach((t, i) => t.copy_(savedBufs[i]!)));
      savedBufs.forEach((t) => t.dispose());
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
    ctx.log({ kind: 'hessian', ...m, ...(per.length > 1 ? { perBatch: maxes } : {}) });
    ctx.note(`epoch ${ctx.epoch}: dominant Hessian eigenvalue ${m.maxEigenvalue.toPrecision(4)} (${m.method}, ${m.operatorCalls} HVPs, ${m.seconds.toFixed(1)} s)`);
  }

  getState(): unknown {
    return { trace: this.trace };
  }
  setState(s: unknown): void {
    this.trace = [...((s as { trace?: Array<{ epoch: number; maxEigenvalue: number }> }).trace ?? [])];
  }
}

/** DARTS-ES on the recurrent search: the CNN's plug-in (search/methods/es.ts) with the recurrent genotype's repr. */
export class RnnEarlyStopPlugin extends EarlyStopPlugin<RnnGenotype> implements RnnSearchPlugin {
  constructor(ruleName: EarlyStopRuleName, options: EarlyStopOptions, mode: 'stop' | 'signal') {
    super(ruleName, options, mode, formatRnnGenotypeRepr);
  }
}

/** DARTS-ADA on the recurrent search: roll back to the stop epoch and multiply the weight decay by η (search/methods/ada.ts). */
export class RnnAdaPlugin extends AdaPlugin<RnnGenotype> implements RnnSearchPlugin {
  constructor(o: { l2Init: number; eta: number; l2Max: number }) {
    super(o, formatRnnGenotypeRepr);
  }
}

/** darts: (+ Hessian monitor when hessian.every > 0); darts-es: + monitor + early stop; darts-ada: + monitor + early stop (signal) + ADA. */
export function buildRnnPlugins(cfg: RnnSearchConfig): RnnSearchPlugin[] {
  const plugins: RnnSearchPlugin[] = [];
  const every = rnnHessianEvery(cfg);
  if (every > 0) {
    plugins.push(
      new RnnHessianMonitor(hessianMonitorOptions(cfg, every)),
    );
  }
  const es = cfg.earlyStop;
  const esOptions = earlyStopOptions(es, every, cfg.epochs);
  if (cfg.method === 'darts-es') plugins.push(new RnnEarlyStopPlugin(es.rule, esOptions, 'stop'));
  if (cfg.method === 'darts-ada') {
    plugins.push(new RnnEarlyStopPlugin(es.rule, esOptions, 'signal'));
    plugins.push(new RnnAdaPlugin({ l2Init: cfg.weightDecay, eta: cfg.ada.eta, l2Max: cfg.ada.l2Max }));
  }
  return plugins;
}
