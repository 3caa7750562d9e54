/**
 * Checkpoints of the recurrent-cell search (docs/lm.md#run-folders): what one holds, resume from
 * the newest intact one, the DARTS-ADA rollback. Storage goes through the run's recorder
 * (search/recorder.ts; experiments/run-recorder.ts writes the folder), in the same files as the
 * CNN search's checkpoints. Hidden states are not stored: each epoch starts both streams from a
 * zero state, as DARTS' train() does, so a completed epoch is a complete resume point.
 */
import { getRngState, noGrad, setRngState, type SGD, type Tensor } from '../../torch/index.js';
import type { RnnSearchModel } from '../../nas/rnn/model.js';
import { rnnGenotypeFromJSON, rnnGenotypeToJSON, type RnnGenotype } from '../../nas/rnn/genotype.js';
import type { Rng, RngState } from '../../util/rng.js';
import { CheckpointError } from '../../errors.js';
import type { LogLengths, RunRecorder } from '../recorder.js';
import type { RnnArchitect } from './architect.js';
import type { RnnSearchPlugin } from './plugin.js';
import type { LossPpl } from './run-lines.js';

/** The `state` beside the tensors (field names are the file format). */
export interface RnnTrainerState {
  kind: 'rnn-search';
  epoch: number;
  iteration: number;
  l2: number;
  sgd: { lr: number; momentum: number; weightDecay: number; hasBuffers: boolean[] };
  adam: { steps: number[] };
  torchRng: string;
  seqRng: RngState;
  hessianRng: RngState;
  plugins: Record<string, unknown>;
  logs: LogLengths;
  genotypes: Record<string, unknown>;
  lastValid: LossPpl | null;
  stop: { reason: string; genotypeEpoch: number } | null;
}

export interface RnnTrainerParts {
  readonly model: RnnSearchModel;
  readonly wOpt: SGD;
  readonly architect: RnnArchitect;
  readonly seqRng: Rng;
  readonly hessianRng: Rng;
  readonly plugins: RnnSearchPlugin[];
}

/** Where a search stands between epochs. */
export class RnnSearchPosition {
  epoch = 0;
  iteration = 0;
  genotypes = new Map<number, RnnGenotype>();
  lastValid: LossPpl | null = null;
  stopped: { reason: string; genotypeEpoch: number } | null = null;
}

export class RnnTrainerCheckpoints {
  constructor(
    private readonly parts: RnnTrainerParts,
    private readonly pos: RnnSearchPosition,
    private readonly recorder: RunRecorder | null,
    private readonly keep: number,
  ) {}

  /** Every tensor a checkpoint holds, by name (the model's own tensors, not copies). */
  tensors(): Map<string, Tensor> {
    const { model, wOpt, architect } = this.parts;
    const t = new Map<string, Tensor>();
    for (const [n, p] of model.namedParameters()) t.set(`w.${n}`, p);
    for (const [n, b] of model.namedBuffers()) t.set(`buf.${n}`, b);
    t.set('alpha.recurrent', model.alpha);
    wOpt.momentumBuffers.forEach((b, i) => b && t.set(`sgd.momentum.${i}`, b));
    architect.opt.slots.forEach((s, i) => {
      if (s.expAvg) t.set(`adam.exp_avg.${i}`, s.expAvg);
      if (s.expAvgSq) t.set(`adam.exp_avg_sq.${i}`, s.expAvgSq);
    });
    return t;
  }

  state(): RnnTrainerState {
    const { wOpt, architect, seqRng, hessianRng } = this.parts;
    const plugins: Record<string, unknown> = {};
    for (const p of this.parts.plugins) if (p.getState) plugins[p.name] = p.getState();
    const genotypes: Record<string, unknown> = {};
    for (const [e, g] of this.pos.genotypes) genotypes[String(e)] = rnnGenotypeToJSON(g);
    return {
      kind: 'rnn-search',
      epoch: this.pos.epoch,
      iteration: this.pos.iteration,
      l2: wOpt.hyper.weightDecay,
      sgd: { lr: wOpt.lr, momentum: wOpt.hyper.momentum, weightDecay: wOpt.hyper.weightDecay, hasBuffers: wOpt.momentumBuffers.map((b) => b !== null) },
      adam: { steps: architect.opt.slots.map((s) => s.step) },
      torchRng: Buffer.from(getRngState()).toString('base64'),
      seqRng: seqRng.getState(),
      hessianRng: hessianRng.getState(),
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

  /** Continue from the newest intact checkpoint (logs cut back to it); its epoch, or null when there is none. */
  resume(onSkip?: (epoch: number, err: Error) => void): number | null {
    if (!this.recorder) throw new CheckpointError('resume needs a run folder');
    const ck = this.recorder.loadLatestCheckpoint<RnnTrainerState>(onSkip);
    if (!ck) return null;
    this.restore(ck.tensors, ck.state, 'all');
    this.pos.stopped = ck.state.stop ?? null;
    this.pos.iteration = ck.state.iteration;
    this.parts.wOpt.hyper.weightDecay = ck.state.l2;
    this.recorder.truncateLogs(ck.state.logs);
    return ck.epoch;
  }

  /** DARTS-ADA: back to the checkpoint of `toEpoch`, next iteration with weight decay `l2`, later checkpoints deleted; returns the previous weight decay. */
  rollback(toEpoch: number, l2: number): number {
    if (!this.recorder) throw new CheckpointError('DARTS-ADA rollbacks need a run folder with checkpoints');
    const available = this.recorder.listCheckpoints();
    if (!available.includes(toEpoch)) throw new CheckpointError(`DARTS-ADA wants to roll back to epoch ${toEpoch}, but only checkpoints ${available.join(', ')} exist`, 'raise keepCheckpoints');
    const ck = this.recorder.loadCheckpoint<RnnTrainerState>(toEpoch);
    const previous = this.parts.wOpt.hyper.weightDecay;
    this.restore(ck.tensors, ck.state, 'rollback');
    this.pos.iteration += 1;
    this.parts.wOpt.hyper.weightDecay = l2;
    for (const e of this.recorder.listCheckpoints()) if (e > toEpoch) this.recorder.removeCheckpoint(e);
    return previous;
  }

  private restore(tensors: Map<string, Tensor>, st: RnnTrainerState, restorePlugins: 'all' | 'rollback'): void {
    const { model, wOpt, architect, seqRng, hessianRng } = this.parts;
    if (st.kind !== 'rnn-search') throw new CheckpointError(`the checkpoint is not one of a recurrent-cell search (kind ${String(st.kind)})`, 'resume it with the command that started it');
    const need = (name: string): Tensor => {
      const t = tensors.get(name);
      if (!t) throw new CheckpointError(`checkpoint lacks tensor '${name}'`, 'the checkpoint was written for another model configuration');
      return t;
    };
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) copyChecked(p, need(`w.${n}`), `w.${n}`);
      for (const [n, b] of model.namedBuffers()) copyChecked(b, need(`buf.${n}`), `buf.${n}`);
      copyChecked(model.alpha, need('alpha.recurrent'), 'alpha.recurrent');
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
    seqRng.setState(st.seqRng);
    hessianRng.setState(st.hessianRng);
    for (const p of this.parts.plugins) {
      if (!p.setState || !(p.name in st.plugins)) continue;
      if (restorePlugins === 'all' || p.restoreOnRollback !== false) p.setState(st.plugins[p.name]);
    }
    this.pos.genotypes = new Map(Object.entries(st.genotypes).map(([e, g]) => [Number(e), rnnGenotypeFromJSON(g)]));
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
