/**
 * Parameter counts of the language models, by formula (docs/lm.md#models), without building tensors:
 *   embedding V·H (tied with the decoder weight, counted once) + decoder bias V
 *   + W0 (H + H)·2H + one W_i of H·2H per node; batch norm (search) has no parameters.
 * DARTS' evaluation model of DARTS_V2 on PTB (V = 10000, H = 850, 8 nodes): 22,960,000 ("23M").
 */
export interface RnnParameterCount {
  embedding: number;
  decoderBias: number;
  w0: number;
  ws: number;
  total: number;
}

/** Counts for vocabulary `vocabSize`, hidden (= embedding) size `hiddenSize` and `steps` nodes. */
export function rnnParameterCount(vocabSize: number, hiddenSize: number, steps: number): RnnParameterCount {
  const H = hiddenSize;
  const embedding = vocabSize * H;
  const decoderBias = vocabSize;
  const w0 = 2 * H * 2 * H;
  const ws = steps * H * 2 * H;
  return { embedding, decoderBias, w0, ws, total: embedding + decoderBias + w0 + ws };
}
