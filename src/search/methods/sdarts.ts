/**
 * SDARTS-RS and SDARTS-ADV (Chen & Hsieh, ICML 2020; docs/sdarts.md) as a search plug-in: it
 * supplies the edge weights of each weight step (the `weightsForStep` hook RS-ws uses), perturbed
 * around softmax(α) by ./sdarts-perturb.ts; the architecture step never sees them (it takes
 * softmax(α) itself). On the same clock as DARTS-ES and DARTS-ADA, so it composes with darts,
 * darts-es and darts-ada. ε ramps per epoch (onEpochStart). The noise comes from the plug-in's
 * own seeded generator, whose state is checkpointed (and restored on an ADA rollback), so a
 * resumed run draws the same noise.
 *
 * ADV runs its PGD with the model in eval mode (batch-norm running statistics, no drop path) and
 * puts the mode back, as the authors' Linf_PGD_alpha does.
 */
import { grad, noGrad, tidy, type Tensor } from '../../torch/index.js';
import type { ArchWeights } from '../../nas/alpha.js';
import type { Network } from '../../nas/supernet.js';
import { Rng, type RngState } from '../../util/rng.js';
import type { Batch } from '../architect.js';
import type { EpochContext, EpochStartControls, SearchPlugin } from '../plugin.js';
import { epsilonAt, pgdPerturbation, randomSmoothing, type CellRows } from './sdarts-perturb.js';

export interface SdartsOptions {
  mode: 'rs' | 'adv';
  /** ε at the end of the ramp */
  epsilon: number;
  /** ε at epoch 0 */
  epsilonStart: number;
  /** PGD steps (adv) */
  steps: number;
  /** PGD random start (adv) */
  randomStart: boolean;
  seed: number;
}

/** Stream offset of the plug-in's generator (the trainer uses seed·1000 + 1 … 3, RS-ws its own). */
const SDARTS_STREAM = 11;

/** Rows of a padded [edges, maxOps] tensor, `lengths[e]` entries of row e. */
function rowsOf(t: Tensor, lengths: number[]): number[][] {
  const flat = t.toNumbers();
  const m = t.shape[1]!;
  return lengths.map((n, e) => flat.slice(e * m, e * m + n));
}

export class SdartsPlugin implements SearchPlugin {
  readonly name = 'sdarts';
  readonly restoreOnRollback = true;
  private rng: Rng;
  /** ε in force this epoch */
  epsilon: number;
  /** the last step's perturbation (tests and diagnostics) */
  last: { delta: CellRows; weights: CellRows; trace?: number[]; reverted?: boolean } | null = null;

  constructor(readonly o: SdartsOptions) {
    this.rng = new Rng(o.seed * 1000 + SDARTS_STREAM);
    this.epsilon = o.epsilonStart;
  }

  onEpochStart(ctx: EpochContext, _controls: EpochStartControls): void {
    this.epsilon = epsilonAt(ctx.epoch, ctx.epochs, this.o.epsilon, this.o.epsilonStart);
  }

  weightsForStep(model: Network, batch?: Batch): ArchWeights {
    const s = model.softmaxValues();
    if (this.o.mode === 'rs') {
      const r = randomSmoothing(s, this.epsilon, this.rng);
      this.last = r;
      return model.weightsFromValues(r.weights);
    }
    if (!batch) throw new Error('SDARTS-ADV needs the training batch of the weight step');
    const lengths = { normal: s.normal.map((r) => r.length), reduce: s.reduce.map((r) => r.length) };
    const wasTraining = model.training;
    model.train(false);
    try {
      const loss = (w: CellRows): number => tidy(() => noGrad(() => model.loss(batch.x, batch.y, { weights: model.weightsFromValues(w) }).item()));
      const lossAndGrad = (w: CellRows) =>
        tidy(() => {
          const wt = model.weightsFromValues(w);
          wt.normal.requiresGrad = true;
          wt.reduce.requiresGrad = true;
          const l = model.loss(batch.x, batch.y, { weights: wt });
          const [gn, gr] = grad(l, [wt.normal, wt.reduce]) as Tensor[];
          return { loss: l.item(), grad: { normal: rowsOf(gn!, lengths.normal), reduce: rowsOf(gr!, lengths.reduce) } };
        });
      const r = pgdPerturbation(s, this.epsilon, this.o.steps, lossAndGrad, this.o.randomStart ? this.rng : null, loss);
      this.last = r;
      return model.weightsFromValues(r.weights);
    } finally {
      model.train(wasTraining);
    }
  }

  getState(): unknown {
    return { rng: this.rng.getState() };
  }
  setState(s: unknown): void {
    this.rng.setState((s as { rng: RngState }).rng);
  }
}
