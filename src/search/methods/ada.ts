import { AdaController, type AdaState } from './ada-controller.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { Genotype } from '../../nas/genotype.js';
import type { PluginDecision } from '../plugin.js';
import type { AdaIgnoreLine, DartsEsGenotypeLine } from '../run-lines.js';

type Logged<L> = L extends unknown ? Omit<L, 'epoch' | 'iteration'> & { epoch?: number } : never;

/** What DARTS-ADA reads at an epoch's end (the CNN's and the recurrent search's contexts both have it). */
export interface AdaContext<G> {
  epoch: number;
  earlyStop: { detectEpoch: number; stopEpoch: number; rule: string } | null;
  genotypeAt(e: number): G | null;
  log(line: Logged<AdaIgnoreLine | DartsEsGenotypeLine>): void;
  note(message: string): void;
}

/**
 * DARTS-ADA (docs/methods.md#darts-ada): when the early-stop rule fires, roll back to its stop epoch and
 * multiply the weight decay by η, until the reference's final-regularisation test holds (the
 * decisions: `AdaController`, ./ada-controller.ts). Its own state (L2 schedule, rollback
 * history) survives rollbacks.
 */
// a SearchPlugin (CNN, G = Genotype) or RnnSearchPlugin (G = RnnGenotype), by structure
export class AdaPlugin<G = Genotype> {
  readonly name = 'ada';
  readonly restoreOnRollback = false;
  private ctl: AdaController;
  /** `repr` writes the DARTS-ES genotype of the first rollback into the log (the recurrent search passes its own) */
  constructor(
    o: { l2Init: number; eta: number; l2Max: number },
    private readonly repr: (g: G) => string = formatGenotypeRepr as unknown as (g: G) => string,
  ) {
    this.ctl = new AdaController(o);
  }

  get controller(): AdaController {
    return this.ctl;
  }

  onEpochEnd(ctx: AdaContext<G>): PluginDecision | void {
    if (!ctx.earlyStop) return;
    const d = this.ctl.onTrigger(ctx.earlyStop.detectEpoch, ctx.earlyStop.stopEpoch);
    if (d.action === 'ignore') {
      ctx.log({ kind: 'ada', action: 'ignore', reason: d.reason, l2: d.l2 });
      ctx.note(`DARTS-ADA: the rule fired at epoch ${ctx.epoch} but L2 ${d.l2} is final; continuing`);
      return;
    }
    if (d.firstRollback) {
      const g = ctx.genotypeAt(d.toEpoch);
      ctx.log({ kind: 'darts-es-genotype', stopEpoch: d.toEpoch, repr: g ? this.repr(g) : null });
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
