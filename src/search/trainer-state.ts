/**
 * The state of a search between two epochs and everything that saves or restores it: the
 * checkpoint of a completed epoch (weights, buffers, α, both optimisers, every RNG, the data
 * order, plug-in states, log lengths, the genotype history), resume from the newest intact one,
 * and the DARTS-ADA rollback to an earlier one. Storage goes through the run's recorder;
 * the loop itself is in trainer.ts.
 */
import { getRngState, noGrad, setRngState, type SGD, type Tensor } from '../torch/index.js';
import type { Network } from '../nas/supernet.js';
import type { Genotype } from '../nas/genotype.js';
import { genotypeFromJSON, genotypeToJSON } from '../nas/genotype-json.js';
import type { BatchLoader, BatchLoaderState, RandomBatchSampler, RandomBatchSamplerState } from '../data/index.js';
import type { Rng, RngState } from '../util/rng.js';
import { CheckpointError } from '../errors.js';
import type { Architect } from './architect.js';
import type { SearchPlugin } from './plugin.js';
import type { LogLengths, RunRecorder } from './recorder.js';
import type { LossAcc } from './run-lines.js';

/** The `state` a search checkpoint stores beside its tensors (field names are the file format). */
export interface TrainerState {
  epoch: number;
  iteration: number;
  /** weight decay in force (the same value as sgd.weightDecay; both kept for older checkpoints) */
  l2: number;
  sgd: { lr: number; momentum: number; weightDecay: number; hasBuffers: boolean[] };
  adam: { steps: number[] };
  torchRng: string;
  augRng: RngState;
  trainLoader: BatchLoaderState;
  valSampler: RandomBatchSamplerState;
  plugins: Record<string, unknown>;
  logs: LogLengths;
  genotypes: Record<string, unknown>;
  lastValid: LossAcc | null;
  /** set when an early stop ended the search at this checkpoint (absent in older checkpoints) */
  stop?: { reason: string; genotypeEpoch: number } | null;
}

/** The objects whose state a checkpoint holds. */
export interface TrainerParts {
  readonly model: Network;
  /** the weight optimiser; its weight decay is the search's current L2 (DARTS-ADA raises it) */
  readonly wOpt: SGD;
  readonly architect: Architect;
  readonly augRng: Rng;
  readonly trainLoader: BatchLoader;
  readonly valSampler: RandomBatchSampler;
  readonly plugins: SearchPlugin[];
}

/** Where a search stands: the loop advances it, a checkpoint stores it, resume and rollback restore it. */
export class SearchPosition {
  /** next epoch to run */
  epoch = 0;
  /** DARTS-ADA restarts so far (0 before the first rollback) */
  iteration = 0;
  /** genotype after each epoch of the current iteration's history */
  genotypes = new Map<number, Genotype>();
  lastValid: LossAcc | null = null;
  /** the early stop that ended this search (restored by resume, so a finished run stays finished) */
  stopped: { reason: string; genotypeEpoch: number } | null = null;
}

/** Saving, resuming and rolling back a search through its recorder (none: nothing is saved). */
export class TrainerCheckpoints {
  constructor(
    private readonly parts: TrainerParts,
    private readonly pos: SearchPosition,
    private readonly recorder: RunRecorder | null,
    /** checkpoints to keep (darts-ada keeps enough for its rollbacks) */
    private readonly keep: number,
  ) {}

  /** Every tensor a checkpoint holds, by name (the model's own tensors, not copies). */
  tensors(): Map<string, Tensor> {
    const { model, wOpt, architect } = this.parts;
    const t = new Map<string, Tensor>();
    for (const [n, p] of model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of model.namedBuffers()) t.set(`buf.${n}`, b);
    const [an, ar] = model.archParameters();
    t.set('alpha.normal', an!);
    t.set('alpha.reduce', ar!);
    wOpt.momentumBuffers.forEach((b, i) => b && t.set(`sgd.momentum.${i}`, b));
    architect.opt.slots.forEach((s, i) => {
      if (s.expAvg) t.set(`adam.exp_avg.${i}`, s.expAvg);
      if (s.expAvgSq) t.set(`adam.exp_avg_sq.${i}`, s.expAvgSq);
    });
    return t;
  }

  /** Everything else a checkpoint holds. */
  state(): TrainerState {
    const { wOpt, architect, augRng, trainLoader, valSampler } = this.parts;
    const plugins: Record<string, unknown> = {};
    for (const p of this.parts.plugins) if (p.getState) plugins[p.name] = p.getState();
    const genotypes: Record<string, unknown> = {};
    for (const [e, g] of this.pos.genotypes) genotypes[String(e)] = genotypeToJSON(g);
    return {
      epoch: this.pos.epoch,
      iteration: this.pos.iteration,
      l2: wOpt.hyper.weightDecay,
      sgd: { lr: wOpt.lr, momentum: wOpt.hyper.momentum, weightDecay: wOpt.hyper.weightDecay, hasBuffers: wOpt.momentumBuffers.map((b) => b !== null) },
      adam: { steps: architect.opt.slots.map((s) => s.step) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      augRng: augRng.getState(),
      trainLoader: trainLoader.getState(),
      valSampler: valSampler.getState(),
      plugins,
      logs: this.recorder ? this.recorder.lengths() : { metrics: 0, genotypes: 0 },
      genotypes,
      lastValid: this.pos.lastValid,
      stop: this.pos.stopped,
    };
  }

  /** Checkpoint the epoch just finished (pos.epoch − 1) and prune older ones. */
  save(): void {
    if (!this.recorder) return;
    this.recorder.saveCheckpoint(this.pos.epoch - 1, this.tensors(), this.state());
    this.recorder.pruneCheckpoints(this.keep);
  }

  /** Continue from the newest intact checkpoint; the logs are cut back to match it. Returns its epoch, or null when there is none. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<TrainerState>(onSkip);
    if (!ck) return null;
    this.restore(ck.tensors, ck.state, 'all');
    this.pos.stopped = ck.state.stop ?? null;
    this.pos.iteration = ck.state.iteration;
    this.parts.wOpt.hyper.weightDecay = ck.state.l2;
    this.recorder.truncateLogs(ck.state.logs);
    return ck.epoch;
  }

  /**
   * DARTS-ADA: go back to the checkpoint of `toEpoch` (the search continues at toEpoch + 1),
   * start the next iteration with weight decay `l2`, and delete the later checkpoints (they
   * belong to the abandoned branch). Returns the weight decay before the rollback.
   */
  rollback(toEpoch: number, l2: number): number {
    if (!this.recorder) throw new CheckpointError('DARTS-ADA rollbacks need a run folder with checkpoints');
    const available = this.recorder.listCheckpoints();
    if (!available.includes(toEpoch)) throw new CheckpointError(`DARTS-ADA wants to roll back to epoch ${toEpoch}, but only checkpoints ${available.join(', ')} exist`, 'raise keepCheckpoints');
    const ck = this.recorder.loadCheckpoint<TrainerState>(toEpoch);
    const previous = this.parts.wOpt.hyper.weightDecay;
    this.restore(ck.tensors, ck.state, 'rollback');
    this.pos.iteration += 1;
    this.parts.wOpt.hyper.weightDecay = l2;
    for (const e of this.recorder.listCheckpoints()) if (e > toEpoch) this.recorder.removeCheckpoint(e);
    return previous;
  }

  /** Restore model, optimisers, RNGs, loaders and (optionally) plug-ins from a checkpoint; its tensors are disposed. */
  private restore(tensors: Map<string, Tensor>, st: TrainerState, restorePlugins: 'all' | 'rollback'): void {
    const { model, wOpt, architect, augRng, trainLoader, valSampler } = this.parts;
    const need = (name: string): Tensor => {
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another model configuration');
      return t;
    };
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) copyChecked(p, need(`w.${n}`), `w.${n}`);
      for (const [n, b] of model.namedBuffers()) copyChecked(b, need(`buf.${n}`), `buf.${n}`);
      const [an, ar] = model.archParameters();
      copyChecked(an!, need('alpha.normal'), 'alpha.normal');
      copyChecked(ar!, need('alpha.reduce'), 'alpha.reduce');
    });
    wOpt.loadStateDict({
      hyper: { ...wOpt.hyper, lr: st.sgd.lr, momentum: st.sgd.momentum, weightDecay: st.sgd.weightDecay },
      buffers: st.sgd.hasBuffers.map((has, i) => (has ? need(`sgd.momentum.${i}`) : null)),
    });
    architect.opt.loadStateDict({
      hyper: architect.opt.hyper,
      slots: st.adam.steps.map((step, i) => ({ step, expAvg: tensors.get(`adam.exp_avg.${i}`) ?? null, expAvgSq: tensors.get(`adam.exp_avg_sq.${i}`) ?? null })),
    });
    setRngState(Uint8Array.from(Buffer.from(st.torchRng, 'base64')));
    augRng.setState(st.augRng);
    trainLoader.setState(st.trainLoader);
    valSampler.setState(st.valSampler);
    for (const p of this.parts.plugins) {
      if (!p.setState || !(p.name in st.plugins)) continue;
      if (restorePlugins === 'all' || p.restoreOnRollback !== false) p.setState(st.plugins[p.name]);
    }
    this.pos.genotypes = new Map(Object.entries(st.genotypes).map(([e, g]) => [Number(e), genotypeFromJSON(g as never)]));
    this.pos.lastValid = st.lastValid;
    this.pos.epoch = st.epoch;
    for (const t of tensors.values()) t.dispose();
  }
}

function copyChecked(dst: Tensor, src: Tensor, name: string): void {
  if (dst.shape.join(',') !== src.shape.join(',')) {
    throw new CheckpointError(`checkpoint tensor '${name}' has shape [${src.shape.join(', ')}], the model needs [${dst.shape.join(', ')}]`, 'the checkpoint was written for another configuration');
  }
  dst.copy_(src);
}
