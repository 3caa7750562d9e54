/**
 * Accuracy drop after discretisation (docs/methods.md#discretisation-drop): the search model's validation accuracy
 * with its continuous α (softmax) minus its accuracy with α replaced by the one-hot weights of
 * its genotype — same weights, eval mode (BN running statistics), no grad, no retraining.
 * High curvature (λ_max) should go with a large drop (Spearman correlation across runs; see
 * `rdarts analyze`).
 *
 * Choices (docs/methods.md#discretisation-drop): the split is the α-validation split (at most `evalBatches` batches), BN uses
 * the running statistics accumulated during search for both passes, and the drop is in
 * accuracy fractions (0.05 = 5 points).
 */
import type { Genotype } from '../../nas/genotype.js';
import { genotypeToJSON } from '../../nas/genotype-json.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { Network } from '../../nas/supernet.js';
import type { Batch } from '../architect.js';
import { evaluateSupernet } from '../evaluate.js';
import type { EpochContext, EvalResult, EvalWeights, SearchEndContext, SearchEndOutput, SearchPlugin } from '../plugin.js';
import type { EndLogLine } from '../run-lines.js';

export interface DiscretizationDrop {
  softAcc: number;
  discreteAcc: number;
  /** softAcc − discreteAcc */
  drop: number;
  softLoss: number;
  discreteLoss: number;
  /** images evaluated per pass */
  n: number;
  genotype: Genotype;
}

/** Anything that evaluates its supernet on validation data with given edge weights (a SearchTrainer, an EpochContext). */
export interface SupernetEvaluator {
  model: Network;
  evaluate(weights?: EvalWeights): EvalResult;
}

/** A supernet and explicit batches (tensors owned by the caller). */
export interface SupernetOnBatches {
  model: Network;
  batches: Batch[];
}


/**
 * Soft vs discrete validation accuracy of a supernet. `genotype` defaults to the one derived
 * from the current α (`model.genotype()`).
 */
export function discretizationDrop(src: SupernetEvaluator | SupernetOnBatches, genotype?: Genotype): DiscretizationDrop {
  const g = genotype ?? src.model.genotype();
  const run = (w: 'soft' | Genotype): EvalResult => ('batches' in src ? evaluateSupernet(src.model, src.batches, w) : src.evaluate(w));
  const soft = run('soft');
  const disc = run(g);
  return { softAcc: soft.acc, discreteAcc: disc.acc, drop: soft.acc - disc.acc, softLoss: soft.loss, discreteLoss: disc.loss, n: soft.n, genotype: g };
}

export type DiscretizationWhen = 'off' | 'end' | 'hessian' | 'every';

export interface DiscretizationMonitorOptions {
  when: Exclude<DiscretizationWhen, 'off'>;
  /** Hessian frequency in effect (for when = 'hessian'); 0 = none */
  hessianEvery: number;
}

interface Measurement {
  epoch: number;
  softAcc: number;
  discreteAcc: number;
  drop: number;
  softLoss: number;
  discreteLoss: number;
  repr: string;
}

/**
 * Logs `{kind: 'discretization', epoch, softAcc, discreteAcc, drop, …}` at the chosen epochs
 * (always the last one) and puts the final measurement into result.json (`discretization`).
 * A search that stops early is measured at the epoch it stopped after.
 */
export class DiscretizationMonitor implements SearchPlugin {
  readonly name = 'discretization';
  private last: Measurement | null = null;
  constructor(readonly o: DiscretizationMonitorOptions) {}

  due(epoch: number, epochs: number): boolean {
    if (epoch === epochs - 1 || this.o.when === 'every') return true;
    return this.o.when === 'hessian' && this.o.hessianEvery > 0 && epoch % this.o.hessianEvery === 0;
  }

  private measure(
    epoch: number,
    src: SupernetEvaluator,
    genotype: Genotype | null,
    soft: { loss: number; acc: number } | null,
    log: (l: EndLogLine) => void,
  ): Measurement {
    const t0 = performance.now();
    const g = genotype ?? src.model.genotype();
    let r: Omit<DiscretizationDrop, 'genotype' | 'n'>;
    if (soft) {
      // the epoch's validation pass already evaluated softmax(α) on the same batches
      const d = src.evaluate(g);
      r = { softAcc: soft.acc, discreteAcc: d.acc, drop: soft.acc - d.acc, softLoss: soft.loss, discreteLoss: d.loss };
    } else {
      r = discretizationDrop(src, g);
    }
    const m: Measurement = { epoch, ...r, repr: formatGenotypeRepr(g) };
    log({ kind: 'discretization', epoch, softAcc: m.softAcc, discreteAcc: m.discreteAcc, drop: m.drop, softLoss: m.softLoss, discreteLoss: m.discreteLoss, genotype: genotypeToJSON(g), seconds: (performance.now() - t0) / 1000 });
    this.last = m;
    return m;
  }

  onEpochEnd(ctx: EpochContext): void {
    if (!this.due(ctx.epoch, ctx.epochs)) return;
    const m = this.measure(ctx.epoch, ctx, ctx.genotype, ctx.valid, ctx.log);
    ctx.note(`epoch ${ctx.epoch}: discretisation drop ${(100 * m.drop).toFixed(2)} points (soft ${(100 * m.softAcc).toFixed(2)}%, one-hot ${(100 * m.discreteAcc).toFixed(2)}%)`);
  }

  onSearchEnd(ctx: SearchEndContext): SearchEndOutput {
    const lastEpoch = ctx.epochsRun - 1;
    // an early stop ends before the last scheduled epoch: measure the final supernet now
    if (!this.last || this.last.epoch !== lastEpoch) this.measure(lastEpoch, ctx, null, null, (l) => ctx.log(l));
    const m = this.last!;
    return { result: { discretization: { epoch: m.epoch, softAcc: m.softAcc, discreteAcc: m.discreteAcc, drop: m.drop, softLoss: m.softLoss, discreteLoss: m.discreteLoss, repr: m.repr } } };
  }

  getState(): unknown {
    return { last: this.last };
  }

  setState(s: unknown): void {
    this.last = (s as { last?: Measurement | null } | null)?.last ?? null;
  }
}
