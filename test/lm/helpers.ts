/**
 * Small PTB-format corpora for the language-modelling tests: sentences from a seeded first-order
 * Markov chain over a few made-up words (so a tiny model can learn something), written as
 * Mikolov's files are (a space at both ends of each line).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import { corpusFromTexts, type TextCorpus } from '../../src/data/ptb.js';
import { resolveRnnConfig, type RnnSearchConfig } from '../../src/search/rnn/config.js';

const WORDS = ['the', 'a', 'cat', 'dog', 'sat', 'ran', 'on', 'under', 'mat', 'log', 'big', 'small', 'N', '<unk>', 'and', 'saw'];

export function markovText(lines: number, seed: number): string {
  const rng = new Rng(seed);
  let out = '';
  for (let l = 0; l < lines; l++) {
    const len = 3 + rng.int(6);
    let w = rng.int(4);
    const words: string[] = [];
    for (let k = 0; k < len; k++) {
      words.push(WORDS[w]!);
      w = rng.random() < 0.7 ? (w * 5 + 3) % WORDS.length : rng.int(WORDS.length);
    }
    out += ` ${words.join(' ')} \n`;
  }
  return out;
}

export function markovTexts(seed = 1, lines: { train: number; valid: number; test: number } = { train: 300, valid: 60, test: 60 }): Record<'train' | 'valid' | 'test', string> {
  return { train: markovText(lines.train, seed), valid: markovText(lines.valid, seed + 100), test: markovText(lines.test, seed + 200) };
}

export function markovCorpus(seed = 1, lines?: { train: number; valid: number; test: number }): TextCorpus {
  return corpusFromTexts('markov', markovTexts(seed, lines), { train: 'markov.train', valid: 'markov.valid', test: 'markov.test' });
}

/** Writes ptb.{train,valid,test}.txt of a Markov corpus into `dir`. */
export function writeMarkovPtb(dir: string, seed = 1): void {
  mkdirSync(dir, { recursive: true });
  const t = markovTexts(seed);
  for (const s of ['train', 'valid', 'test'] as const) writeFileSync(join(dir, `ptb.${s}.txt`), t[s]);
}

/** A search configuration of seconds: hidden 6, batch 4, BPTT 5, a few steps per epoch. */
export function tinyRnnConfig(over: Record<string, unknown> = {}): RnnSearchConfig {
  return resolveRnnConfig(
    {
      dataset: 'ptb',
      emsize: 6,
      nhid: 6,
      batchSize: 4,
      evalBatchSize: 3,
      bptt: 5,
      stepsPerEpoch: 3,
      evalBatches: 3,
      epochs: 3,
      seed: 3,
      hessian: { every: 1, lanczosIterations: 6, topK: 2 },
    },
    over,
    'test config',
  );
}
