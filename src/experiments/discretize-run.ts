/**
 * `rdarts discretize RUN_DIR`: the accuracy drop after discretisation of a finished (or
 * checkpointed) search, both as the reference measures it (batch-norm statistics of the mixture)
 * and with the one-hot network's batch-norm statistics re-estimated on training batches
 * (search/bn-reestimate.ts; docs/evaluation.md). The supernet comes from the run's newest
 * checkpoint; the validation batches are the run's α-validation split in order, at most the
 * run's `evalBatches` (so the reference number equals the search's own `discretization` record
 * when it measured at that checkpoint), and the re-estimation uses the first `bnBatches`
 * batches of its weight-training split, without augmentation. Nothing is written.
 */
import { existsSync, readFileSync } from 'node:fs';
import { makeBatch, trainValSplit } from '../data/index.js';
import { Network, formatGenotypeRepr, genotypeFromJSON, resolveSpace, type Genotype } from '../nas/index.js';
import { noGrad, tensor, type Tensor } from '../torch/index.js';
import { validateConfig } from '../search/config.js';
import { discretizationDropBoth, type DiscretizationBoth } from '../search/bn-reestimate.js';
import type { Batch } from '../search/architect.js';
import { CheckpointError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { RunDir } from './run-dir.js';
import { loadLatestCheckpoint } from './checkpoint.js';
import { loadSearchData } from './search-run.js';

export interface DiscretizeOptions {
  /** training batches for the re-estimation (default 10) */
  bnBatches?: number;
  /** validation batches (default: the run's evalBatches, else the whole split) */
  evalBatches?: number;
}

export interface DiscretizeReport extends DiscretizationBoth {
  run: string;
  epoch: number;
  genotype: Genotype;
  repr: string;
  valImages: number;
}

export async function measureDiscretization(dir: string, o: DiscretizeOptions = {}): Promise<DiscretizeReport> {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  if (saved.kind === 'train') throw new CheckpointError(`${dir} is a training run; the discretisation drop is measured on a search's supernet`, 'pass a search run folder');
  const { resolvedSpace: _s, library: _l, dataFingerprint: _f, trainImages: _t, parameters: _p, alphas: _a, stepsPerEpoch, ...rest } = saved;
  const cfg = validateConfig({ ...rest, stepsPerEpoch: stepsPerEpoch ?? null }, runDir.file('config.json'));
  const ck = loadLatestCheckpoint<Record<string, unknown>>(runDir.checkpointsDir);
  if (!ck) throw new CheckpointError(`${dir} holds no checkpoint`, 'the supernet is only kept in checkpoints; run or resume the search first');
  const data = await loadSearchData(cfg);
  const model = new Network({ space: resolveSpace(cfg.spaceFile ?? cfg.space), C: cfg.channels, layers: cfg.layers, numClasses: data.numClasses, inChannels: data.channels });
  const owned: Tensor[] = [];
  try {
    const need = (name: string): Tensor => {
      const t = ck.tensors.get(name);
      if (!t) throw new CheckpointError(`checkpoint of epoch ${ck.epoch} lacks '${name}'`, 'it was written for another configuration');
      return t;
    };
    noGrad(() => {
      for (const [n, p] of model.namedParameters()) p.copy_(need(`w.${n}`));
      for (const [n, b] of model.namedBuffers()) b.copy_(need(`buf.${n}`));
      const [an, ar] = model.archParameters();
      an!.copy_(need('alpha.normal'));
      ar!.copy_(need('alpha.reduce'));
    });
    const resultPath = runDir.file('result.json');
    const result = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as Record<string, unknown>) : null;
    const genotype = result?.genotype ? genotypeFromJSON(result.genotype, resultPath) : model.genotype();
    const split = trainValSplit(data.n, cfg.trainPortion);
    const B = cfg.batchSize;
    const rng = new Rng(0); // no augmentation: never drawn from
    const batchesOf = (idx: Int32Array, max: number): Batch[] => {
      const out: Batch[] = [];
      for (let k = 0; k * B < idx.length && k < max; k++) {
        const b = makeBatch(data, idx.subarray(k * B, Math.min(idx.length, (k + 1) * B)), { augment: false }, rng);
        const x = tensor(b.x, b.shape);
        const y = tensor(b.y, [b.y.length]).to('int64');
        owned.push(x, y);
        out.push({ x, y });
      }
      return out;
    };
    const val = batchesOf(split.val, o.evalBatches ?? cfg.evalBatches ?? Infinity);
    const bn = batchesOf(split.train, o.bnBatches ?? 10);
    const r = discretizationDropBoth(model, genotype, val, bn);
    return { ...r, run: runDir.path, epoch: ck.epoch, genotype, repr: formatGenotypeRepr(genotype), valImages: r.soft.n };
  } finally {
    for (const t of owned) t.dispose();
    for (const t of ck.tensors.values()) t.dispose();
    model.dispose();
  }
}
