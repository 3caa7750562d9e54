/**
 * Plug-ins of the recurrent-cell search: the same clock and decisions as the CNN search's
 * (search/plugin.ts: epoch end, stop, roll back, JSON state in every checkpoint), with a context
 * that speaks of the recurrent model, perplexity and BPTT windows instead of the CNN supernet.
 */
import type { Tensor } from '../../torch/index.js';
import type { RnnSearchModel } from '../../nas/rnn/model.js';
import type { RnnGenotype } from '../../nas/rnn/genotype.js';
import type { HessianMeasurement, PluginDecision } from '../plugin.js';
import type { TokenTensors } from './architect.js';
import type { LossPpl, RnnEpochLogLine } from './run-lines.js';

export type { PluginDecision, HessianMeasurement };

/** A validation window for a measurement: tokens and the hidden state it starts from. */
export interface RnnWindow extends TokenTensors {
  hidden: Tensor;
}

export interface RnnEpochContext {
  epoch: number;
  epochs: number;
  iteration: number;
  /** weight decay in force */
  l2: number;
  /** set by the Hessian monitor at this epoch's end, if it measured */
  hessian: HessianMeasurement | null;
  genotype: RnnGenotype | null;
  /** set by an early-stop rule in signal mode when it fires */
  earlyStop: { detectEpoch: number; stopEpoch: number; rule: string } | null;
  model: RnnSearchModel;
  train: LossPpl | null;
  valid: LossPpl | null;
  /**
   * A validation window of the α-step's stream (batch batchSize, bptt tokens) at a row drawn
   * from the run's Hessian generator, starting from a zero hidden state; created in the caller's scope.
   */
  valWindow(): RnnWindow;
  genotypeAt(e: number): RnnGenotype | null;
  log(line: RnnEpochLogLine): void;
  note(message: string): void;
}

export interface RnnSearchPlugin {
  readonly name: string;
  onEpochEnd?(ctx: RnnEpochContext): Promise<PluginDecision | void> | PluginDecision | void;
  getState?(): unknown;
  setState?(state: unknown): void;
  /** On a rollback: true = restore this plug-in's state from the target checkpoint; false = keep it (ADA's schedule). */
  readonly restoreOnRollback?: boolean;
}
