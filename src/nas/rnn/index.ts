/**
 * The recurrent (language-model) side of the nas layer: the DARTS recurrent space on PTB
 * (docs/lm.md#space, #models, #genotypes; reference: DARTS `rnn/`). Import from here:
 * `import { RnnSearchModel, … } from '../../nas/rnn/index.js'` (not re-exported by nas/index.ts,
 * so the CNN names stay as they are).
 *
 * API (for the search loop, LM-SEARCH):
 *
 * Space — `RNN_PRIMITIVES` = none, tanh, relu, sigmoid, identity (α's columns), `RNN_STEPS` = 8,
 *   `DARTS_RNN_SPACE`, `numRnnEdges(8)` = 36, `rnnEdgeIndex(node 1..8, source 0..node−1)`,
 *   `rnnAlphaShape()` = [36, 5].
 *
 * Genotypes — `RnnGenotype { recurrent: Array<[op, from]>; concat: number[] }` (gene i is node i+1,
 *   `from` ∈ 0..i, 0 = the initial state); `formatRnnGenotypeRepr` / `parseRnnGenotypeRepr`
 *   (`Genotype(recurrent=[('sigmoid', 0), …], concat=range(1, 9))`, lists accepted);
 *   `rnnGenotypeToJSON` / `rnnGenotypeFromJSON` ({"recurrent": [["sigmoid", 0], …], "concat": [1, …, 8]});
 *   `getPublishedRnnGenotype('DARTS_V2' | 'DARTS_V1' | 'DARTS' | 'ENAS')`, `RNN_DARTS_V1/V2`;
 *   `deriveRnnGenotype(alphaRows)` (DARTS rule); `rnnGenotypeToOneHot`; `rnnGenotypesEqual`;
 *   `rnnGenotypeToDot` / `renderRnnGenotypeSvg` (cell diagram).
 *
 * Models — `new RnnSearchModel({ vocabSize, hiddenSize = 300, dropout…dropoute = DARTS search defaults })`
 *   and `new RnnEvalModel({ vocabSize, genotype, hiddenSize = 850, dropouts = DARTS train.py defaults })`:
 *   - `initHidden(batch)` → zeros [1, B, H];
 *   - `forward(input [T, B] int64, hidden [1, B, H], { weights? })` → { logProbs [T, B, V], hidden
 *     [1, B, H] (still attached to the graph: detach before the next segment, as DARTS'
 *     repackage_hidden), rawOutput [T, B, H] (for TAR), output [T, B, H] (dropped, for AR) };
 *   - `loss(input, target [T, B] or [T·B], hidden, { weights? })` → { loss (mean NLL, scalar), hidden,
 *     rawOutput, output }; DARTS' `_loss` = plain NLL; add `activationPenalty(rawOutput, output,
 *     { alpha: 0, beta: 1e-3 })` (DARTS' AR/TAR) only in the weight step, as DARTS does;
 *   - `train()` / `eval()` (dropout masks and batch-norm batch statistics only in train mode);
 *     every mask is drawn from libtorch's generator once per forward call, so `manualSeed(s)`
 *     before two calls gives the same masks (that is how the finite-difference tests fix them);
 *   - `weightParameters()` (the tied embedding/decoder matrix once), `numParameters()`;
 *   - state: `stateDict()` keys `encoder.weight`, `rnns.0._W0`, `rnns.0._Ws.{i}`,
 *     `rnns.0.bn.{running_mean,running_var,num_batches_tracked}` (search), `decoder.bias`;
 *     `dartsStateDict()` adds the tied alias `decoder.weight`; `loadDartsStateDict`.
 *   Search model only: `archParameters()` = [α] (leaf [36, 5], requiresGrad, 1e-3·N(0,1), not a
 *   module parameter), `archWeights()` = softmax(α), `alphaValues()` / `setAlpha(rows)`,
 *   `genotype()`, `discreteWeights(g)` (one-hot weights for `{ weights }`), `checkpointTensors()` /
 *   `loadCheckpointTensors()` (module state + α under DARTS' name `weights`), and the Hessian
 *   code's `ArchModel`: `archVector([t])` (row-major flatten), `archFromVector(v)` → [t],
 *   `numArchParameters()` = 180.
 *   `rnnParameterCount(V, H, steps)` counts by formula (DARTS_V2, V 10000, H 850: 22,960,000).
 *
 * Hessian: `AlphaHessian` (src/analysis/hessian.ts) works on `RnnSearchModel` directly. Its
 *   `ArchModel` interface had `archFromVector(): [Tensor, Tensor]` (the CNN's two α tensors); it now
 *   says `Tensor[]`, the one change made there. `new AlphaHessian(model, () => model.loss(x, y,
 *   h0).loss)` then `.hvp(v)`, `.full()`, `dominantEigenvalues(h, { method: 'lanczos', topK: 1 })`.
 *   Double backward works through every op used here (tanh, sigmoid, relu, train-mode batch
 *   norm, embedding, dropout masks, log-softmax/NLL): test/nas/rnn-grad.test.ts checks it.
 *
 * Evaluation training (ASGD, perplexity): src/search/rnn/eval-trainer.ts; shared LM helpers
 * (segment slicing `lmSegment`, DARTS' variable BPTT length, `evaluateLm`): src/search/rnn/eval-lm.ts.
 */
export * from './space.js';
export * from './genotype.js';
export * from './repr.js';
export * from './published.js';
export * from './diagram.js';
export * from './dropout.js';
export * from './cell.js';
export * from './model.js';
export * from './param-count.js';
