/**
 * DARTS-ES: early stopping on the dominant Hessian eigenvalue, in the two forms that exist
 * (docs/methods.md#darts-es): the paper's rule and the reference code's rule. Each is an incremental state
 * machine — feed it one (epoch, λ_max) per Hessian measurement with `update` — whose whole
 * state is plain JSON (`getState()` / `fromState()`), so a checkpoint can hold it and a
 * rollback (DARTS-ADA) can restore it. `replayEarlyStop` runs a rule over a recorded trace.
 * Its plug-in, `EarlyStopPlugin`, is ./es.ts.
 *
 * ## Code rule (`automl/RobustDARTS`, `utils.EVLocalAvg` + `early_stop`), defaults in brackets
 * window w [5], evFreq [2], startEpoch [10], delta [4], factor [1.3], lastEpoch [49].
 * On each measurement at epoch e (EV list grows by one):
 * - if #EV ≥ ⌈w/2⌉ and e < lastEpoch: append a local average — the mean of all EVs while
 *   #EV < w, afterwards the mean of the last w EVs — labelled `la(e) = e − evFreq·⌊w/2⌋`
 *   (e − 4: the window's centre when EVs are evFreq apart);
 * - else if #EV < ⌈w/2⌉: no average (label −1 in the reference);
 * - else if e = lastEpoch: append ⌈w/2⌉ "tail" averages over shrinking trailing windows
 *   (w, w−1, …, w−⌈w/2⌉+1 EVs; marked `tail: true`, labels continue evFreq apart). They are
 *   never used by a check; they only complete the curve for plots.
 * - check (only when e ≠ lastEpoch, e got a label, and la(e) − evFreq·delta ≥ startEpoch,
 *   i.e. e ≥ 22 with the defaults): r = LA[−1] / LA[−1−delta] (the average labelled e − 4 over
 *   the one labelled e − 12). If r > factor the rule fires: detect epoch e, stop epoch
 *   la(e) − evFreq·delta = e − 12, whose architecture is returned.
 * Where the reference would crash (a check with fewer than delta+1 averages, which the
 * defaults never reach) the check is skipped instead.
 *
 * ## Paper rule (docs/methods.md#paper-rule): k [5], threshold [0.75], startEpoch [0]
 * λ̄(j) is the trailing local average over k epochs: the mean of the measurements whose epoch
 * lies in (j − k, j]. It is defined only when the whole window lies inside the measured range
 * (j − k + 1 ≥ first measured epoch) and holds at least one measurement. So with a
 * measurement every epoch it averages k = 5 values; with one every 2 epochs it averages 2 or 3
 * (the window is in epochs, not samples). At every measured epoch i where λ̄(i) and λ̄(i − k)
 * are defined and i − k ≥ startEpoch, r = λ̄(i − k) / λ̄(i); if r < threshold the rule fires:
 * detect i, stop epoch i − k. The first check needs measurements spanning 2k epochs: at
 * i = first + 2k − 1 (epoch 9 when measured every epoch from 0, returning epoch 4); with
 * measurements at 0, 2, 4, … the first check is at epoch 10 (λ̄(5) over {2, 4} vs λ̄(10) over
 * {6, 8, 10}), returning epoch 5 — the caller takes the genotype recorded after that epoch
 * (genotypes.jsonl has one per epoch).
 *
 * In both rules `detectEpoch` / `stopEpoch` are those of the first firing; later checks are
 * still evaluated and listed (the ADA controller acts on each firing).
 */
import { CheckpointError, ConfigError } from '../../errors.js';
import type { TracePoint } from '../../analysis/trace.js';

export type EarlyStopRuleName = 'paper' | 'code';

export interface CodeRuleOptions {
  window: number;
  evFreq: number;
  startEpoch: number;
  delta: number;
  factor: number;
  lastEpoch: number;
}

export interface PaperRuleOptions {
  k: number;
  threshold: number;
  startEpoch: number;
}

export const CODE_RULE_DEFAULTS: Readonly<CodeRuleOptions> = Object.freeze({ window: 5, evFreq: 2, startEpoch: 10, delta: 4, factor: 1.3, lastEpoch: 49 });
export const PAPER_RULE_DEFAULTS: Readonly<PaperRuleOptions> = Object.freeze({ k: 5, threshold: 0.75, startEpoch: 0 });

export interface LocalAverage {
  /** Epoch the average is attributed to (code: la(e) = e − evFreq·⌊w/2⌋; paper: the window's last epoch). */
  epoch: number;
  value: number;
  /** Number of measurements averaged. */
  samples: number;
  /** Code rule only: one of the shrinking-window averages appended at the last epoch. */
  tail?: boolean;
}

export interface EsCheck {
  /** Epoch of the measurement that triggered the check. */
  epoch: number;
  /** code: LA[−1]/LA[−1−delta] (fires when > factor); paper: λ̄(i−k)/λ̄(i) (fires when < threshold). */
  ratio: number;
  /** The newer and the older local average compared. */
  current: number;
  previous: number;
  fired: boolean;
  /** The epoch whose architecture the rule returns if it fires here. */
  stopEpoch: number;
}

export interface EsUpdate {
  epoch: number;
  /** The check made at this measurement, or null when none was due. */
  check: EsCheck | null;
  /** True when this check fired (each firing, not only the first). */
  fired: boolean;
}

export interface CodeRuleState {
  rule: 'code';
  version: 1;
  options: CodeRuleOptions;
  epochs: number[];
  ev: number[];
  localAverages: LocalAverage[];
  /** [epoch, la(epoch)] for every measured epoch that got a label (−1 while #EV < ⌈w/2⌉). */
  laEpochs: Array<[number, number]>;
  laStart: number;
  laEnd: number;
  checks: EsCheck[];
  detectEpoch: number | null;
  stopEpoch: number | null;
}

export interface PaperRuleState {
  rule: 'paper';
  version: 1;
  options: PaperRuleOptions;
  epochs: number[];
  ev: number[];
  localAverages: LocalAverage[];
  checks: EsCheck[];
  detectEpoch: number | null;
  stopEpoch: number | null;
}

export type EarlyStopState = CodeRuleState | PaperRuleState;

export interface EarlyStopRule {
  readonly rule: EarlyStopRuleName;
  readonly detectEpoch: number | null;
  readonly stopEpoch: number | null;
  update(epoch: number, maxEigenvalue: number): EsUpdate;
  getState(): EarlyStopState;
}

function mean(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s / xs.length;
}

function clone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Checks a measurement (see checkInput) and appends it to the rule's series. */
function record(s: { epochs: number[]; ev: number[] }, epoch: number, value: number): void {
  checkInput(s.epochs, epoch, value);
  s.epochs.push(epoch);
  s.ev.push(value);
}

function checkInput(epochs: number[], epoch: number, value: number): void {
  if (!Number.isInteger(epoch) || epoch < 0) throw new ConfigError(`early stop: epoch must be a non-negative integer, got ${epoch}`);
  if (!Number.isFinite(value)) throw new ConfigError(`early stop: the eigenvalue at epoch ${epoch} is ${value}`, 'the Hessian measurement failed (NaN/Inf); check the run');
  const last = epochs[epochs.length - 1];
  if (last !== undefined && epoch <= last) {
    throw new ConfigError(`early stop: epoch ${epoch} does not come after epoch ${last}`, 'feed measurements in increasing epoch order (after a rollback restore the state saved at that epoch)');
  }
}

function validNumber(x: unknown, name: string, pred: (v: number) => boolean, why: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || !pred(x)) throw new ConfigError(`early stop: option ${name} must be ${why}, got ${JSON.stringify(x)}`);
  return x;
}

export function resolveCodeOptions(o: Partial<CodeRuleOptions> = {}): CodeRuleOptions {
  const r = { ...CODE_RULE_DEFAULTS, ...stripUndefined(o) };
  validNumber(r.window, 'window', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  validNumber(r.evFreq, 'evFreq', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  validNumber(r.startEpoch, 'startEpoch', Number.isInteger, 'an integer');
  validNumber(r.delta, 'delta', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  validNumber(r.factor, 'factor', (v) => v > 0, 'a positive number');
  validNumber(r.lastEpoch, 'lastEpoch', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
  return r;
}

export function resolvePaperOptions(o: Partial<PaperRuleOptions> = {}): PaperRuleOptions {
  const r = { ...PAPER_RULE_DEFAULTS, ...stripUndefined(o) };
  validNumber(r.k, 'k', (v) => Number.isInteger(v) && v >= 1, 'a positive integer');
  validNumber(r.threshold, 'threshold', (v) => v > 0, 'a positive number');
  validNumber(r.startEpoch, 'startEpoch', Number.isInteger, 'an integer');
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Refuse a saved state that is not a version-1 state of `rule` with matching epoch/value lists. */
function checkState(state: { rule?: unknown; version?: unknown; ev?: unknown; epochs?: unknown } | null | undefined, rule: EarlyStopRuleName): void {
  if (!state || state.rule !== rule || state.version !== 1 || !Array.isArray(state.ev) || !Array.isArray(state.epochs) || state.ev.length !== state.epochs.length) {
    throw new CheckpointError(`early-stop state is not a version-1 ${rule}-rule state`, 'the checkpoint is corrupt or from another version; start the search afresh');
  }
}

/** What both rules share: the state object and its read-only views. */
abstract class RuleBase<O, S extends { options: O; detectEpoch: number | null; stopEpoch: number | null; localAverages: LocalAverage[] }> {
  protected s!: S;

  get detectEpoch(): number | null {
    return this.s.detectEpoch;
  }
  get stopEpoch(): number | null {
    return this.s.stopEpoch;
  }
  get options(): O {
    return { ...this.s.options };
  }
  get localAverages(): LocalAverage[] {
    return clone(this.s.localAverages);
  }

  getState(): S {
    return clone(this.s);
  }
}

/** The reference code's rule (see the module comment). */
export class CodeEarlyStop extends RuleBase<CodeRuleOptions, CodeRuleState> implements EarlyStopRule {
  readonly rule = 'code' as const;

  constructor(options: Partial<CodeRuleOptions> = {}) {
    super();
    const opts = resolveCodeOptions(options);
    this.s = { rule: 'code', version: 1, options: opts, epochs: [], ev: [], localAverages: [], laEpochs: [], laStart: 0, laEnd: opts.window, checks: [], detectEpoch: null, stopEpoch: null };
  }

  static fromState(state: CodeRuleState): CodeEarlyStop {
    checkState(state, 'code');
    const r = new CodeEarlyStop(state.options);
    r.s = clone({ ...state, options: r.s.options });
    return r;
  }


  update(epoch: number, maxEigenvalue: number): EsUpdate {
    const s = this.s;
    const o = s.options;
    record(s, epoch, maxEigenvalue);
    const half = Math.ceil(o.window / 2);
    const n = s.ev.length;
    let label: number | null = null;
    if (n >= half && epoch < o.lastEpoch) {
      if (n < o.window) {
        s.localAverages.push({ epoch: 0, value: mean(s.ev), samples: n });
      } else {
        const win = s.ev.slice(s.laStart, s.laEnd);
        s.localAverages.push({ epoch: 0, value: mean(win), samples: win.length });
        s.laStart++;
        s.laEnd++;
      }
      label = epoch - o.evFreq * Math.floor(o.window / 2);
      s.localAverages[s.localAverages.length - 1]!.epoch = label;
      s.laEpochs.push([epoch, label]);
    } else if (n < half) {
      s.laEpochs.push([epoch, -1]);
    } else if (epoch === o.lastEpoch) {
      let lab = s.localAverages.length ? s.localAverages[s.localAverages.length - 1]!.epoch : epoch - o.evFreq * Math.floor(o.window / 2);
      for (let i = 0; i < half; i++) {
        const win = s.ev.slice(s.laStart, s.laEnd + 1);
        if (win.length > 0) {
          lab += o.evFreq;
          s.localAverages.push({ epoch: lab, value: mean(win), samples: win.length, tail: true });
        }
        s.laStart++;
      }
    }

    let check: EsCheck | null = null;
    if (epoch !== o.lastEpoch && label !== null && label - o.evFreq * o.delta >= o.startEpoch && s.localAverages.length >= o.delta + 1) {
      const la = s.localAverages;
      const current = la[la.length - 1]!.value;
      const previous = la[la.length - 1 - o.delta]!.value;
      const ratio = current / previous;
      check = { epoch, ratio, current, previous, fired: ratio > o.factor, stopEpoch: label - o.evFreq * o.delta };
      s.checks.push(check);
      if (check.fired && s.detectEpoch === null) {
        s.detectEpoch = epoch;
        s.stopEpoch = check.stopEpoch;
      }
    }
    return { epoch, check: check ? { ...check } : null, fired: check?.fired ?? false };
  }
}

/** The paper's rule (see the module comment). */
export class PaperEarlyStop extends RuleBase<PaperRuleOptions, PaperRuleState> implements EarlyStopRule {
  readonly rule = 'paper' as const;

  constructor(options: Partial<PaperRuleOptions> = {}) {
    super();
    this.s = { rule: 'paper', version: 1, options: resolvePaperOptions(options), epochs: [], ev: [], localAverages: [], checks: [], detectEpoch: null, stopEpoch: null };
  }

  static fromState(state: PaperRuleState): PaperEarlyStop {
    checkState(state, 'paper');
    const r = new PaperEarlyStop(state.options);
    r.s = clone({ ...state, options: r.s.options });
    return r;
  }


  /** λ̄(j) over epochs (j − k, j], or null when undefined (see the module comment). */
  localAverageAt(j: number): { value: number; samples: number } | null {
    const { k } = this.s.options;
    const first = this.s.epochs[0];
    if (first === undefined || j - k + 1 < first) return null;
    const vals: number[] = [];
    for (let i = 0; i < this.s.epochs.length; i++) {
      const e = this.s.epochs[i]!;
      if (e > j - k && e <= j) vals.push(this.s.ev[i]!);
    }
    return vals.length ? { value: mean(vals), samples: vals.length } : null;
  }

  update(epoch: number, maxEigenvalue: number): EsUpdate {
    const s = this.s;
    const o = s.options;
    record(s, epoch, maxEigenvalue);
    const cur = this.localAverageAt(epoch);
    if (cur) s.localAverages.push({ epoch, value: cur.value, samples: cur.samples });
    let check: EsCheck | null = null;
    const prev = this.localAverageAt(epoch - o.k);
    if (cur && prev && epoch - o.k >= o.startEpoch) {
      const ratio = prev.value / cur.value;
      check = { epoch, ratio, current: cur.value, previous: prev.value, fired: ratio < o.threshold, stopEpoch: epoch - o.k };
      s.checks.push(check);
      if (check.fired && s.detectEpoch === null) {
        s.detectEpoch = epoch;
        s.stopEpoch = check.stopEpoch;
      }
    }
    return { epoch, check: check ? { ...check } : null, fired: check?.fired ?? false };
  }
}

export type EarlyStopOptions = Partial<CodeRuleOptions> & Partial<PaperRuleOptions>;

export function createEarlyStop(rule: EarlyStopRuleName, options: EarlyStopOptions = {}): CodeEarlyStop | PaperEarlyStop {
  if (rule === 'code') {
    const { window, evFreq, startEpoch, delta, factor, lastEpoch } = options;
    return new CodeEarlyStop({ window, evFreq, startEpoch, delta, factor, lastEpoch });
  }
  if (rule === 'paper') {
    const { k, threshold, startEpoch } = options;
    return new PaperEarlyStop({ k, threshold, startEpoch });
  }
  throw new ConfigError(`unknown early-stop rule ${JSON.stringify(rule)}`, "use 'paper' or 'code'");
}

export function earlyStopFromState(state: EarlyStopState): CodeEarlyStop | PaperEarlyStop {
  if (state?.rule === 'code') return CodeEarlyStop.fromState(state);
  if (state?.rule === 'paper') return PaperEarlyStop.fromState(state);
  throw new CheckpointError(`early-stop state has unknown rule ${JSON.stringify((state as { rule?: unknown })?.rule)}`, 'the checkpoint is corrupt or from another version');
}

export interface ReplayResult {
  rule: EarlyStopRuleName;
  options: CodeRuleOptions | PaperRuleOptions;
  /** Epoch of the first firing, or null (then the search runs to the end). */
  detectEpoch: number | null;
  /** Epoch whose architecture the rule returns, or null. */
  stopEpoch: number | null;
  /** Every check made over the whole trace, in order. */
  checks: EsCheck[];
  /** Epochs of every firing. */
  firings: number[];
  localAverages: LocalAverage[];
  /** Things about the trace that do not fit the rule's assumptions. */
  warnings: string[];
}

/** Run a rule over a recorded trace of (epoch, λ_max), in epoch order. */
export function replayEarlyStop(trace: TracePoint[], rule: EarlyStopRuleName = 'code', options: EarlyStopOptions = {}): ReplayResult {
  const es = createEarlyStop(rule, options);
  const warnings: string[] = [];
  for (const p of trace) es.update(p.epoch, p.maxEigenvalue);
  const state = es.getState();
  if (state.rule === 'code') {
    const o = state.options;
    for (let i = 1; i < state.epochs.length; i++) {
      const gap = state.epochs[i]! - state.epochs[i - 1]!;
      if (gap !== o.evFreq && state.epochs[i] !== o.lastEpoch) {
        warnings.push(`measurements at epochs ${state.epochs[i - 1]} and ${state.epochs[i]} are ${gap} apart, but evFreq is ${o.evFreq}: the local-average labels assume evenly spaced measurements`);
        break;
      }
    }
    const last = state.epochs[state.epochs.length - 1];
    if (last !== undefined && last > o.lastEpoch) warnings.push(`the trace goes past lastEpoch ${o.lastEpoch} (to ${last}); measurements after it get no local average and no check`);
  }
  if (state.checks.length === 0) warnings.push('the trace is too short for any check');
  return {
    rule: state.rule,
    options: state.options,
    detectEpoch: state.detectEpoch,
    stopEpoch: state.stopEpoch,
    checks: state.checks,
    firings: state.checks.filter((c) => c.fired).map((c) => c.epoch),
    localAverages: state.localAverages,
    warnings,
  };
}
