/**
 * The skip-count early stop (docs/collapse-monitor.md): stop when the derived normal cell has at
 * least k skip connections, for `patience` epochs in a row. k = 2 is DARTS+'s first criterion
 * (Liang et al. 2019, arXiv:1909.06035, criterion 1: "the search procedure stops when there are two or
 * more than two skip-connects in one normal cell"); P-DARTS (Chen et al. 2019) caps the final
 * cell at M = 2 skip connections instead of stopping.
 *
 * It is composed like DARTS-ES (./es.ts): with darts and darts-es it stops the search
 * ('stop' mode; the first plug-in to decide wins); with darts-ada it only signals, and DARTS-ADA
 * rolls back and raises L2 as it does when the eigenvalue rule fires ('signal' mode).
 * The genotype returned (or rolled back to) is that of the last epoch before the streak began,
 * the last one with fewer than k skips (epoch 0 if the streak began there).
 */
import { ConfigError } from '../../errors.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { EpochContext, PluginDecision, SearchPlugin } from '../plugin.js';
import { skipCount } from './collapse-metrics.js';

export interface CollapseStopSpec {
  rule: 'skips';
  /** fire at this many skip_connect genes in the normal cell */
  k: number;
  /** … seen at this many consecutive epochs */
  patience: number;
}

/** Parse 'skips:K' or 'skips:K:P' (the --collapse-stop flag and the config string form). */
export function parseCollapseStop(text: string, field = '--collapse-stop'): CollapseStopSpec {
  const m = /^skips:(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < 1)) {
    throw new ConfigError(`${field}: '${text}' is not a collapse early-stop rule`, "write skips:K (stop when the normal cell has ≥ K skip connections, e.g. skips:2 as DARTS+) or skips:K:P (P epochs in a row)");
  }
  return { rule: 'skips', k: Number(m[1]), patience: m[2] === undefined ? 1 : Number(m[2]) };
}

export interface SkipRuleState {
  k: number;
  patience: number;
  /** skip counts seen, oldest first (this iteration's epochs, restored on an ADA rollback) */
  history: Array<{ epoch: number; skips: number }>;
}

export interface SkipRuleUpdate {
  skips: number;
  /** consecutive epochs ending here with ≥ k skips */
  streak: number;
  fired: boolean;
  /** epoch whose genotype to return when fired */
  stopEpoch: number;
}

/** The decision, pure: feed one skip count per epoch, in order. */
export class SkipCountRule {
  history: Array<{ epoch: number; skips: number }> = [];
  constructor(
    readonly k: number,
    readonly patience = 1,
  ) {
    if (!Number.isInteger(k) || k < 1) throw new ConfigError(`skip-count rule: k must be a positive integer, got ${k}`);
    if (!Number.isInteger(patience) || patience < 1) throw new ConfigError(`skip-count rule: patience must be a positive integer, got ${patience}`);
  }

  update(epoch: number, skips: number): SkipRuleUpdate {
    // an epoch seen again (after a rollback that did not restore the state) replaces the later ones
    this.history = this.history.filter((h) => h.epoch < epoch);
    this.history.push({ epoch, skips });
    let streak = 0;
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.skips >= this.k; i--) streak++;
    const fired = streak >= this.patience;
    const first = this.history[this.history.length - streak]?.epoch ?? epoch;
    return { skips, streak, fired, stopEpoch: Math.max(0, first - 1) };
  }

  getState(): SkipRuleState {
    return { k: this.k, patience: this.patience, history: this.history.map((h) => ({ ...h })) };
  }

  static fromState(s: SkipRuleState): SkipCountRule {
    const r = new SkipCountRule(s.k, s.patience);
    r.history = (s.history ?? []).map((h) => ({ ...h }));
    return r;
  }
}

/** The plug-in: reads the epoch's genotype, logs a 'collapse-stop' line when the rule fires. */
export class CollapseStopPlugin implements SearchPlugin {
  readonly name = 'collapse-stop';
  readonly restoreOnRollback = true;
  private rule: SkipCountRule;
  constructor(
    readonly spec: CollapseStopSpec,
    readonly mode: 'stop' | 'signal',
  ) {
    this.rule = new SkipCountRule(spec.k, spec.patience);
  }

  get ruleName(): string {
    return `skips:${this.spec.k}${this.spec.patience > 1 ? `:${this.spec.patience}` : ''}`;
  }

  onEpochEnd(ctx: EpochContext): PluginDecision | void {
    if (!ctx.genotype) return;
    const u = this.rule.update(ctx.epoch, skipCount(ctx.genotype, 'normal'));
    if (!u.fired) return;
    // DARTS-ADA rolls back to an earlier epoch's checkpoint: a streak that began at this very
    // epoch (epoch 0) has none yet; the next epoch of the streak signals with stop epoch 0
    if (this.mode === 'signal' && u.stopEpoch >= ctx.epoch) return;
    const g = ctx.genotypeAt(u.stopEpoch);
    ctx.log({ kind: 'early-stop', rule: this.ruleName, detectEpoch: ctx.epoch, stopEpoch: u.stopEpoch, repr: g ? formatGenotypeRepr(g) : null });
    if (this.mode === 'signal') {
      // an eigenvalue rule that fired at this epoch already told DARTS-ADA
      if (!ctx.earlyStop) ctx.earlyStop = { detectEpoch: ctx.epoch, stopEpoch: u.stopEpoch, rule: this.ruleName };
      return;
    }
    return {
      action: 'stop',
      reason: `the normal cell has ${u.skips} skip connections (≥ ${this.spec.k}${this.spec.patience > 1 ? ` for ${u.streak} epochs` : ''}) at epoch ${ctx.epoch}`,
      genotypeEpoch: u.stopEpoch,
    };
  }

  getState(): unknown {
    return this.rule.getState();
  }
  setState(s: unknown): void {
    this.rule = SkipCountRule.fromState(s as SkipRuleState);
  }
}
