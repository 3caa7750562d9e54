import { AdaController, type AdaState } from './ada-controller.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { EpochContext, PluginDecision, SearchPlugin } from '../plugin.js';

/**
 * DARTS-ADA (docs/methods.md#darts-ada): when the early-stop rule fires, roll back to its stop epoch and
 * multiply the weight decay by η, until the reference's final-regularisation test holds (the
 * decisions: `AdaController`, ./ada-controller.ts). Its own state (L2 schedule, rollback
 * history) survives rollbacks.
 */
export class AdaPlugin implements SearchPlugin {
  readonly name = 'ada';
  readonly restoreOnRollback = false;
  private ctl: AdaController;
  constructor(o: { l2Init: number; eta: number; l2Max: number }) {
    this.ctl = new AdaController(o);
  }

  get controller(): AdaController {
    return this.ctl;
  }

  onEpochEnd(ctx: EpochContext): PluginDecision | void {
    if (!ctx.earlyStop) return;
    const d = this.ctl.onTrigger(ctx.earlyStop.detectEpoch, ctx.earlyStop.stopEpoch);
    if (d.action === 'ignore') {
      ctx.log({ kind: 'ada', action: 'ignore', reason: d.reason, l2: d.l2 });
      ctx.note(`DARTS-ADA: the rule fired at epoch ${ctx.epoch} but L2 ${d.l2} is final; continuing`);
      return;
    }
    if (d.firstRollback) {
      const g = ctx.genotypeAt(d.toEpoch);
      ctx.log({ kind: 'darts-es-genotype', stopEpoch: d.toEpoch, repr: g ? formatGenotypeRepr(g) : null });
    }
    return { action: 'rollback', toEpoch: d.toEpoch, l2: d.newL2, reason: `the early-stop rule fired at epoch ${ctx.earlyStop.detectEpoch}` };
  }

  getState(): unknown {
    return this.ctl.getState();
  }
  setState(s: unknown): void {
    this.ctl = AdaController.fromState(s as AdaState);
  }
}
