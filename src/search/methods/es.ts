import { createEarlyStop, earlyStopFromState, type EarlyStopOptions, type EarlyStopRuleName, type EarlyStopState } from './es-rules.js';

/** The rule's options from a search configuration's `earlyStop` group, its Hessian frequency and its epochs. */
export function earlyStopOptions(es: { rule: EarlyStopRuleName; window: number; delta: number; factor: number; startEpoch: number; k: number; threshold: number }, every: number, epochs: number): EarlyStopOptions {
  return { window: es.window, evFreq: every || 1, startEpoch: es.rule === 'code' ? es.startEpoch : 0, delta: es.delta, factor: es.factor, lastEpoch: epochs - 1, k: es.k, threshold: es.threshold };
}
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { Genotype } from '../../nas/genotype.js';
import type { PluginDecision } from '../plugin.js';
import type { EarlyStopCheckLine, EarlyStopLine } from '../run-lines.js';

type Logged<L> = L extends unknown ? Omit<L, 'epoch' | 'iteration'> & { epoch?: number } : never;

/**
 * What DARTS-ES reads and sets at an epoch's end. The CNN search's EpochContext and the recurrent
 * search's RnnEpochContext both have it, with their own genotype type G.
 */
export interface EarlyStopContext<G> {
  epoch: number;
  hessian: { maxEigenvalue: number } | null;
  earlyStop: { detectEpoch: number; stopEpoch: number; rule: string } | null;
  genotypeAt(e: number): G | null;
  log(line: Logged<EarlyStopCheckLine | EarlyStopLine>): void;
}

/**
 * DARTS-ES (docs/methods.md#darts-es): feeds each Hessian measurement to the chosen rule (./es-rules.ts).
 * In 'stop' mode a firing ends the search and returns the genotype of the rule's stop epoch; in
 * 'signal' mode it only tells later plug-ins (DARTS-ADA) through the epoch context. Its state (the eigenvalue
 * history) is restored on an ADA rollback, as the reference restores its tracker.
 */
// a SearchPlugin (CNN, G = Genotype) or RnnSearchPlugin (G = RnnGenotype), by structure
export class EarlyStopPlugin<G = Genotype> {
  readonly name = 'early-stop';
  readonly restoreOnRollback = true;
  private rule;
  /** `repr` writes the stop epoch's genotype into the log (the recurrent search passes its own) */
  constructor(
    readonly ruleName: EarlyStopRuleName,
    readonly options: EarlyStopOptions,
    readonly mode: 'stop' | 'signal',
    private readonly repr: (g: G) => string = formatGenotypeRepr as unknown as (g: G) => string,
  ) {
    this.rule = createEarlyStop(ruleName, options);
  }

  onEpochEnd(ctx: EarlyStopContext<G>): PluginDecision | void {
    if (!ctx.hessian) return;
    const u = this.rule.update(ctx.epoch, ctx.hessian.maxEigenvalue);
    if (u.check) ctx.log({ kind: 'early-stop-check', rule: this.ruleName, ratio: u.check.ratio, current: u.check.current, previous: u.check.previous, fired: u.fired, stopEpoch: u.check.stopEpoch });
    if (!u.fired || !u.check) return;
    const stopEpoch = u.check.stopEpoch;
    const g = ctx.genotypeAt(stopEpoch);
    ctx.log({ kind: 'early-stop', rule: this.ruleName, detectEpoch: ctx.epoch, stopEpoch, repr: g ? this.repr(g) : null });
    if (this.mode === 'signal') {
      ctx.earlyStop = { detectEpoch: ctx.epoch, stopEpoch, rule: this.ruleName };
      return;
    }
    return { action: 'stop', reason: `the ${this.ruleName} early-stop rule fired at epoch ${ctx.epoch} (eigenvalue ratio ${u.check.ratio.toFixed(3)})`, genotypeEpoch: stopEpoch };
  }

  getState(): unknown {
    return this.rule.getState();
  }
  setState(s: unknown): void {
    this.rule = earlyStopFromState(s as EarlyStopState);
  }
}
