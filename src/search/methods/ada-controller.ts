/**
 * DARTS-ADA controller (docs/methods.md#darts-ada): pure decision logic, no training. The search feeds it
 * every firing of the early-stop rule; it answers "roll back to epoch s and continue with
 * the stronger regularisation" or "ignore" once the regularisation is final. Its plug-in,
 * `AdaPlugin`, is ./ada.ts.
 *
 * The reference (`train_search.py`, `--early_stop 3`) calls the current strength R final when
 *     round(log(R_max) / log(R), 1) == 1
 * (Python's round to one decimal). For R, R_max < 1 both logs are negative and the test asks
 * whether log(R_max)/log(R) ∈ [0.95, 1.05), i.e. R_max^(1/0.95) ≤ R < R_max^(1/1.05): R is within
 * roughly ±20 % of R_max (for R_max = 0.03: 0.0249 ≤ R < 0.0354). With the script's
 * R0 = 3e-4, η = 10, R_max = 0.03:
 *   R = 3e-4: log(.03)/log(3e-4) = 0.432 → 0.4, not final;
 *   R = 3e-3: 0.604 → 0.6, not final;
 *   R = 3e-2: 1.000 → 1.0, final.
 * So L2 goes 3e-4 → 3e-3 → 3e-2: at most 2 rollbacks; a third firing is ignored. The test is
 * not "R ≥ R_max": with η = 3 and R_max = 0.03 the ratios are 0.43, 0.50, 0.59, 0.73, 0.94,
 * 1.34, … and R is never final (the reference would roll back at every firing), while
 * args.py's pair η = 3, R_max = 0.0243 is final after 4 rollbacks. We reproduce the test as
 * written and offer `maxRollbacks` (default unlimited) as an extra guard.
 *
 * Python's round() is correctly rounded on the exact binary value; `Number.toFixed(1)` also
 * works on the exact value, and the two differ only on exact binary ties (x.x5 exactly
 * representable), which cannot occur near the boundaries 0.95 and 1.05 (not representable).
 */
import { CheckpointError, ConfigError } from '../../errors.js';

export interface AdaOptions {
  /** Initial strength R0 (SGD weight decay), default 3e-4. */
  l2Init: number;
  /** Multiplier η per rollback, default 10 (scripts/DARTS-ADA_search.sh). */
  eta: number;
  /** R_max, default 0.03. */
  l2Max: number;
  /** Optional hard cap on rollbacks (default Infinity = the reference's behaviour). */
  maxRollbacks: number;
}

export const ADA_DEFAULTS: Readonly<AdaOptions> = Object.freeze({ l2Init: 3e-4, eta: 10, l2Max: 0.03, maxRollbacks: Infinity });

/**
 * One firing of the early-stop rule and what the controller did with it (an entry of the
 * checkpointed history). A rollback as read back from metrics.jsonl is `AdaRollbackRecord`
 * (analysis/report/records.ts).
 */
export interface AdaTriggerRecord {
  detectEpoch: number;
  stopEpoch: number;
  action: 'rollback' | 'ignore';
  l2Before: number;
  l2After: number;
}

export interface AdaState {
  version: 1;
  options: { l2Init: number; eta: number; l2Max: number; maxRollbacks: number | null };
  l2: number;
  rollbacks: number;
  final: boolean;
  /** Stop epoch of the first rollback: the DARTS-ES architecture (null until one happens). */
  esEpoch: number | null;
  history: AdaTriggerRecord[];
}

export type AdaDecision =
  | { action: 'rollback'; toEpoch: number; newL2: number; previousL2: number; rollbacks: number; final: boolean; firstRollback: boolean }
  | { action: 'ignore'; reason: 'final' | 'max-rollbacks'; l2: number };

/** The reference's final-iteration test: round(log(R_max)/log(R), 1) == 1. */
export function isFinalRegularization(l2: number, l2Max: number): boolean {
  const x = Math.log(l2Max) / Math.log(l2);
  return Number.isFinite(x) && Number(x.toFixed(1)) === 1;
}

export class AdaController {
  private s: AdaState;

  constructor(options: Partial<AdaOptions> = {}) {
    const o: AdaOptions = { ...ADA_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) };
    for (const [k, v] of [['l2Init', o.l2Init], ['eta', o.eta], ['l2Max', o.l2Max]] as const) {
      if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ConfigError(`DARTS-ADA: ${k} must be a positive number, got ${JSON.stringify(v)}`);
    }
    if (!(o.maxRollbacks >= 0)) throw new ConfigError(`DARTS-ADA: maxRollbacks must be ≥ 0, got ${o.maxRollbacks}`);
    this.s = {
      version: 1,
      options: { l2Init: o.l2Init, eta: o.eta, l2Max: o.l2Max, maxRollbacks: Number.isFinite(o.maxRollbacks) ? o.maxRollbacks : null },
      l2: o.l2Init,
      rollbacks: 0,
      final: isFinalRegularization(o.l2Init, o.l2Max),
      esEpoch: null,
      history: [],
    };
  }

  static fromState(state: AdaState): AdaController {
    if (!state || state.version !== 1 || typeof state.l2 !== 'number' || !Array.isArray(state.history)) {
      throw new CheckpointError('DARTS-ADA state is not a version-1 state', 'the checkpoint is corrupt or from another version');
    }
    const c = new AdaController({ ...state.options, maxRollbacks: state.options.maxRollbacks ?? Infinity });
    c.s = JSON.parse(JSON.stringify(state)) as AdaState;
    return c;
  }

  getState(): AdaState {
    return JSON.parse(JSON.stringify(this.s)) as AdaState;
  }

  get l2(): number {
    return this.s.l2;
  }
  get rollbacks(): number {
    return this.s.rollbacks;
  }
  get final(): boolean {
    return this.s.final;
  }
  get esEpoch(): number | null {
    return this.s.esEpoch;
  }
  get history(): AdaTriggerRecord[] {
    return this.s.history.map((e) => ({ ...e }));
  }

  /** The early-stop rule fired at `detectEpoch`, pointing back at `stopEpoch`. */
  onTrigger(detectEpoch: number, stopEpoch: number): AdaDecision {
    const s = this.s;
    if (!Number.isInteger(detectEpoch) || !Number.isInteger(stopEpoch) || stopEpoch > detectEpoch || stopEpoch < 0) {
      throw new ConfigError(`DARTS-ADA: bad trigger (detect ${detectEpoch}, stop ${stopEpoch})`, 'the stop epoch must be a non-negative integer not after the detection epoch');
    }
    const cap = s.options.maxRollbacks ?? Infinity;
    if (s.final || s.rollbacks >= cap) {
      const reason = s.final ? 'final' : 'max-rollbacks';
      s.history.push({ detectEpoch, stopEpoch, action: 'ignore', l2Before: s.l2, l2After: s.l2 });
      return { action: 'ignore', reason, l2: s.l2 };
    }
    const previousL2 = s.l2;
    const newL2 = previousL2 * s.options.eta;
    const firstRollback = s.rollbacks === 0;
    if (firstRollback) s.esEpoch = stopEpoch;
    s.l2 = newL2;
    s.rollbacks++;
    s.final = isFinalRegularization(newL2, s.options.l2Max);
    s.history.push({ detectEpoch, stopEpoch, action: 'rollback', l2Before: previousL2, l2After: newL2 });
    return { action: 'rollback', toEpoch: stopEpoch, newL2, previousL2, rollbacks: s.rollbacks, final: s.final, firstRollback };
  }
}
