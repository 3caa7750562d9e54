/**
 * Deterministic index loaders. They hand out indices only; `makeBatch` turns indices into
 * pixels. Both serialise their state to plain JSON for checkpoints, so a resumed run sees
 * exactly the batches the uninterrupted run would have seen.
 */
import { CheckpointError, DataError } from '../errors.js';
import { Rng, type RngState } from '../util/rng.js';

/** One batch as the loader hands it out: dataset indices (pixels come from `makeBatch`). */
export interface IndexBatch {
  /** Dataset indices of this batch. */
  indices: Int32Array;
  /** Pass (epoch) over the index set this batch belongs to, from 0. */
  pass: number;
  /** Batch number within the pass, from 0. */
  step: number;
  /** True for the last batch of a pass. */
  epochEnd: boolean;
}

export interface BatchLoaderState {
  kind: 'BatchLoader';
  n: number;
  batchSize: number;
  dropLast: boolean;
  /** FNV-1a hash of the index set, to refuse a state saved for other data. */
  indexHash: string;
  pass: number;
  /** Indices of the current pass already handed out. */
  position: number;
  /** Generator state just before the current pass's permutation was drawn. */
  rngState: RngState;
}

export interface RandomBatchSamplerState {
  kind: 'RandomBatchSampler';
  n: number;
  batchSize: number;
  indexHash: string;
  draws: number;
  rngState: RngState;
}

/** FNV-1a (32-bit) over the int32 values, as hex. */
export function hashIndices(indices: ArrayLike<number>): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < indices.length; i++) {
    let v = indices[i]! | 0;
    for (let b = 0; b < 4; b++) {
      h ^= v & 0xff;
      h = Math.imul(h, 0x01000193) >>> 0;
      v >>>= 8;
    }
  }
  return `${indices.length}:${h.toString(16).padStart(8, '0')}`;
}

function toInt32(indices: ArrayLike<number>): Int32Array {
  return indices instanceof Int32Array ? indices.slice() : Int32Array.from(indices as ArrayLike<number>);
}

function checkBatchSize(b: number): void {
  if (!Number.isInteger(b) || b < 1) throw new DataError(`batch size must be a positive integer, got ${b}`, 'set batch_size ≥ 1');
}

function stateMismatch(what: string, field: string, saved: unknown, now: unknown): CheckpointError {
  return new CheckpointError(
    `${what} state does not fit this run: ${field} was ${JSON.stringify(saved)} when saved, is ${JSON.stringify(now)} now`,
    'resume with the same dataset, subset, split and batch size as the checkpointed run, or start a fresh run',
  );
}

/**
 * An endless shuffled loader over a fixed index set. Each pass is a fresh permutation
 * drawn from the loader's own generator (once per pass, not per step).
 *
 * Incomplete last batch: by default it is kept, smaller (the reference uses PyTorch's
 * DataLoader without drop_last), so stepsPerEpoch = ceil(n / batchSize) and every index is
 * seen exactly once per pass. With `dropLast`, stepsPerEpoch = floor(n / batchSize) and the
 * n mod batchSize indices at the end of each permutation are skipped.
 */
export class BatchLoader {
  readonly batchSize: number;
  readonly dropLast: boolean;
  private readonly indices: Int32Array;
  private readonly indexHash: string;
  private readonly rng: Rng;
  private perm: Int32Array;
  private pass = 0;
  private position = 0;
  private passRngState: RngState;

  /** `seed` is a number or a generator that the loader then owns. */
  constructor(indices: ArrayLike<number>, batchSize: number, seed: number | Rng, opts: { dropLast?: boolean } = {}) {
    checkBatchSize(batchSize);
    this.indices = toInt32(indices);
    this.batchSize = batchSize;
    this.dropLast = opts.dropLast ?? false;
    if (this.indices.length === 0) throw new DataError('cannot build a batch loader over an empty index set', 'check the dataset, subset and train portion');
    if (this.dropLast && this.indices.length < batchSize) {
      throw new DataError(`with drop_last, ${this.indices.length} images give no complete batch of ${batchSize}`, 'lower the batch size or use more images');
    }
    this.indexHash = hashIndices(this.indices);
    this.rng = typeof seed === 'number' ? new Rng(seed) : seed;
    this.passRngState = this.rng.getState();
    this.perm = this.rng.permutation(this.indices.length);
  }

  get n(): number {
    return this.indices.length;
  }

  /** Batches per pass. */
  get stepsPerEpoch(): number {
    return this.dropLast ? Math.floor(this.n / this.batchSize) : Math.ceil(this.n / this.batchSize);
  }

  private get limit(): number {
    return this.dropLast ? this.stepsPerEpoch * this.batchSize : this.n;
  }

  next(): IndexBatch {
    if (this.position >= this.limit) {
      this.pass++;
      this.position = 0;
      this.passRngState = this.rng.getState();
      this.perm = this.rng.permutation(this.n);
    }
    const start = this.position;
    const end = Math.min(start + this.batchSize, this.limit);
    const out = new Int32Array(end - start);
    for (let k = start; k < end; k++) out[k - start] = this.indices[this.perm[k]!]!;
    this.position = end;
    return { indices: out, pass: this.pass, step: Math.floor(start / this.batchSize), epochEnd: end >= this.limit };
  }

  getState(): BatchLoaderState {
    return {
      kind: 'BatchLoader',
      n: this.n,
      batchSize: this.batchSize,
      dropLast: this.dropLast,
      indexHash: this.indexHash,
      pass: this.pass,
      position: this.position,
      rngState: [...this.passRngState] as RngState,
    };
  }

  setState(s: BatchLoaderState): void {
    const what = 'batch loader';
    if (!s || s.kind !== 'BatchLoader') throw new CheckpointError(`${what} state is malformed: ${JSON.stringify(s)?.slice(0, 200)}`, 'the checkpoint is corrupt; start a fresh run');
    if (s.n !== this.n) throw stateMismatch(what, 'n', s.n, this.n);
    if (s.batchSize !== this.batchSize) throw stateMismatch(what, 'batchSize', s.batchSize, this.batchSize);
    if (s.dropLast !== this.dropLast) throw stateMismatch(what, 'dropLast', s.dropLast, this.dropLast);
    if (s.indexHash !== this.indexHash) throw stateMismatch(what, 'indexHash', s.indexHash, this.indexHash);
    if (!Number.isInteger(s.pass) || s.pass < 0 || !Number.isInteger(s.position) || s.position < 0 || s.position > this.limit) {
      throw new CheckpointError(`${what} state has pass ${s.pass}, position ${s.position} (limit ${this.limit})`, 'the checkpoint is corrupt; start a fresh run');
    }
    try {
      this.rng.setState(s.rngState);
    } catch (e) {
      throw new CheckpointError(`${what} state: ${(e as Error).message}`, 'the checkpoint is corrupt; start a fresh run');
    }
    this.passRngState = [...s.rngState] as RngState;
    this.perm = this.rng.permutation(this.n);
    this.pass = s.pass;
    this.position = s.position;
  }
}

/**
 * The architecture step's validation batch (docs/search.md#validation-batch): every call starts a fresh
 * shuffled pass over the index set and takes its first batch, i.e. min(batchSize, n)
 * distinct indices in uniformly random order, independently of earlier calls (so batches
 * are drawn with replacement across steps). A partial Fisher–Yates shuffle draws only
 * batchSize numbers, and is undone afterwards so the state is just the generator's.
 */
export class RandomBatchSampler {
  readonly batchSize: number;
  private readonly indices: Int32Array;
  private readonly scratch: Int32Array;
  private readonly swaps: Int32Array;
  private readonly indexHash: string;
  private readonly rng: Rng;
  private draws = 0;

  constructor(indices: ArrayLike<number>, batchSize: number, seed: number | Rng) {
    checkBatchSize(batchSize);
    this.indices = toInt32(indices);
    if (this.indices.length === 0) throw new DataError('cannot sample batches from an empty index set', 'check the dataset, subset and train portion');
    this.batchSize = batchSize;
    this.indexHash = hashIndices(this.indices);
    this.rng = typeof seed === 'number' ? new Rng(seed) : seed;
    this.scratch = new Int32Array(this.indices.length);
    for (let i = 0; i < this.scratch.length; i++) this.scratch[i] = i;
    this.swaps = new Int32Array(Math.min(batchSize, this.indices.length));
  }

  get n(): number {
    return this.indices.length;
  }

  next(): Int32Array {
    const n = this.n;
    const k = this.swaps.length;
    const p = this.scratch;
    const out = new Int32Array(k);
    for (let i = 0; i < k; i++) {
      const j = i + this.rng.int(n - i);
      this.swaps[i] = j;
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
      out[i] = this.indices[p[i]!]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      const j = this.swaps[i]!;
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    this.draws++;
    return out;
  }

  getState(): RandomBatchSamplerState {
    return { kind: 'RandomBatchSampler', n: this.n, batchSize: this.batchSize, indexHash: this.indexHash, draws: this.draws, rngState: this.rng.getState() };
  }

  setState(s: RandomBatchSamplerState): void {
    const what = 'validation batch sampler';
    if (!s || s.kind !== 'RandomBatchSampler') throw new CheckpointError(`${what} state is malformed: ${JSON.stringify(s)?.slice(0, 200)}`, 'the checkpoint is corrupt; start a fresh run');
    if (s.n !== this.n) throw stateMismatch(what, 'n', s.n, this.n);
    if (s.batchSize !== this.batchSize) throw stateMismatch(what, 'batchSize', s.batchSize, this.batchSize);
    if (s.indexHash !== this.indexHash) throw stateMismatch(what, 'indexHash', s.indexHash, this.indexHash);
    try {
      this.rng.setState(s.rngState);
    } catch (e) {
      throw new CheckpointError(`${what} state: ${(e as Error).message}`, 'the checkpoint is corrupt; start a fresh run');
    }
    this.draws = s.draws;
  }
}
