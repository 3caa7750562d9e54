/**
 * The PTB reader on format-exact small files (test/fixtures/ptb-tiny), its vocabulary and <eos>,
 * DARTS' batchify / get_batch layout, the variable BPTT length, the missing-file and bad-file
 * errors, --download against a local HTTP server (checksum mismatch rejected), and the embedded
 * common-licenses corpus.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import {
  COMMON_LICENSES_DIR, EOS, UNK, batchify, corpusFingerprint, downloadPtb, drawSeqLen, getBatch, lineTokens, loadTextCorpus, ptbFormatTexts, ptbTokens,
  readCommonLicenses, readPtb, sentences, textLines,
} from '../../src/data/ptb.js';
import { fixturePath } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('ptb');
after(() => tmp.cleanup());
const tiny = () => fixturePath('ptb-tiny');

describe('PTB reader', () => {
  test('vocabulary in order of first appearance in the training file, <eos> after every line', () => {
    const c = readPtb(tiny());
    assert.deepEqual(c.vocab, ['the', 'cat', 'sat', 'on', 'mat', EOS, 'dog', 'log', 'a', UNK, 'saw', 'N', 'cats', 'in', 'park', 'did', "n't", 'see', "'s", 'ball']);
    assert.deepEqual([...c.train], [0, 1, 2, 3, 0, 4, 5, 0, 6, 2, 3, 0, 7, 5, 8, 9, 10, 11, 12, 13, 0, 14, 5, 0, 1, 15, 16, 17, 0, 6, 18, 19, 5]);
    // valid: "the dog sat on the mat" / "a cat saw the log"
    assert.deepEqual([...c.valid], [0, 6, 2, 3, 0, 4, 5, 8, 1, 10, 0, 7, 5]);
    // test: "the cat saw a dog" / "the zebra sat": zebra is not in the training vocabulary → <unk>
    assert.deepEqual([...c.test], [0, 1, 10, 8, 6, 5, 0, 9, 2, 5]);
    assert.deepEqual(c.oov, { valid: 0, test: 1 });
    assert.equal(c.train.filter((t) => t === 5).length, 4, 'one <eos> per training line');
  });

  test('lines as Python iterates a text file: universal newlines, a last line without newline, blank lines give one <eos>', () => {
    assert.deepEqual(textLines(' a b \n c \n'), [' a b ', ' c ']);
    assert.deepEqual(textLines(' a\r\n b\r c'), [' a', ' b', ' c']);
    assert.deepEqual(lineTokens(''), [EOS]);
    assert.deepEqual(lineTokens(' x \t y  '), ['x', 'y', EOS]);
  });

  test('the awd-lstm-lm names (penn/train.txt …) that DARTS reads are accepted too', () => {
    const d = join(tmp.path, 'awd', 'penn');
    mkdirSync(d, { recursive: true });
    for (const s of ['train', 'valid', 'test']) copyFileSync(join(tiny(), `ptb.${s}.txt`), join(d, `${s}.txt`));
    const c = readPtb(join(tmp.path, 'awd'));
    assert.equal(c.vocab.length, 20);
    assert.equal(corpusFingerprint(c), corpusFingerprint(readPtb(tiny())), 'same content, same fingerprint');
  });

  test('a missing file is a DataError naming all three files, which is missing, and where they come from', () => {
    const d = join(tmp.path, 'partial');
    mkdirSync(d, { recursive: true });
    copyFileSync(join(tiny(), 'ptb.train.txt'), join(d, 'ptb.train.txt'));
    assert.throws(
      () => readPtb(d),
      (e: unknown) =>
        e instanceof DataError &&
        e.message.includes(join(d, 'ptb.train.txt')) &&
        !e.message.includes(`${join(d, 'ptb.train.txt')} (or train.txt) [missing]`) &&
        e.message.includes(`${join(d, 'ptb.valid.txt')} (or valid.txt) [missing]`) &&
        e.message.includes(`${join(d, 'ptb.test.txt')} (or test.txt) [missing]`) &&
        e.message.includes('simple-examples.tgz') &&
        e.message.includes('--download') &&
        (e.hint ?? '').includes('common-licenses'),
    );
    assert.throws(() => readPtb(join(tmp.path, 'nowhere')), (e: unknown) => e instanceof DataError && /does not exist/.test(e.message) && e.message.includes(join(tmp.path, 'nowhere', 'ptb', 'ptb.train.txt')));
  });

  test('a file that is not UTF-8 text is refused, naming it', () => {
    const d = join(tmp.path, 'binary');
    mkdirSync(d, { recursive: true });
    for (const s of ['train', 'valid', 'test']) copyFileSync(join(tiny(), `ptb.${s}.txt`), join(d, `ptb.${s}.txt`));
    writeFileSync(join(d, 'ptb.valid.txt'), Uint8Array.from([0x20, 0xff, 0xfe, 0x0a]));
    assert.throws(() => readPtb(d), (e: unknown) => e instanceof DataError && e.message.includes(join(d, 'ptb.valid.txt')) && /UTF-8/.test(e.message));
    writeFileSync(join(d, 'ptb.valid.txt'), ' the \n');
    writeFileSync(join(d, 'ptb.train.txt'), '');
    assert.throws(() => readPtb(d), (e: unknown) => e instanceof DataError && /holds no text/.test(e.message));
  });
});

describe('batches', () => {
  test('batchify: columns are contiguous text, the remainder dropped (DARTS utils.batchify)', () => {
    const ids = Int32Array.from({ length: 11 }, (_, i) => i);
    const g = batchify(ids, 3);
    assert.equal(g.rows, 3);
    assert.equal(g.batch, 3);
    // torch: data.narrow(0, 0, 9).view(3, -1).t() = [[0,3,6],[1,4,7],[2,5,8]]
    assert.deepEqual([...g.data], [0, 3, 6, 1, 4, 7, 2, 5, 8]);
    assert.throws(() => batchify(ids, 6), DataError, 'one row only: no target');
  });

  test('getBatch: target is the input shifted by one row; the length is cut at the end (DARTS utils.get_batch)', () => {
    const g = batchify(Int32Array.from({ length: 20 }, (_, i) => i), 2); // rows 10: column 0 = 0..9, column 1 = 10..19
    const b = getBatch(g, 0, 3);
    assert.equal(b.seqLen, 3);
    assert.deepEqual([...b.input], [0, 10, 1, 11, 2, 12]);
    assert.deepEqual([...b.target], [1, 11, 2, 12, 3, 13]);
    const end = getBatch(g, 7, 35);
    assert.equal(end.seqLen, 2, 'min(seqLen, rows − 1 − i)');
    assert.deepEqual([...end.target], [8, 18, 9, 19]);
    assert.throws(() => getBatch(g, 9, 5), RangeError);
  });

  test('variable BPTT length: halve (train_search.py), normal (train.py), fixed; seeded and reproducible', () => {
    const draw = (mode: 'halve' | 'normal' | 'fixed', n: number, seed = 3) => {
      const rng = new Rng(seed);
      return Array.from({ length: n }, () => drawSeqLen(rng, { bptt: 35, mode, maxSeqLenDelta: 20 }));
    };
    const h = draw('halve', 2000);
    assert.deepEqual([...new Set(h)].sort((a, b) => a - b), [17, 35]);
    const halves = h.filter((x) => x === 17).length / h.length;
    assert.ok(halves > 0.03 && halves < 0.07, `≈5 % halved, got ${halves}`);
    const n = draw('normal', 4000);
    assert.ok(n.every((x) => x >= 5 && x <= 55 && Number.isInteger(x)));
    const mean = n.reduce((a, b) => a + b, 0) / n.length;
    // E = 0.95·35 + 0.05·17.5 − ~0.5 (truncation toward zero) ≈ 33.6
    assert.ok(Math.abs(mean - 33.6) < 0.5, `mean ${mean}`);
    assert.ok(n.some((x) => x < 20) && n.some((x) => x > 40));
    assert.deepEqual(draw('normal', 50), draw('normal', 50), 'same seed, same lengths');
    assert.notDeepEqual(draw('normal', 50), draw('normal', 50, 4));
    assert.deepEqual(draw('fixed', 5), [35, 35, 35, 35, 35]);
  });
});

describe('--download', () => {
  const bodies: Record<string, Uint8Array> = {};
  for (const s of ['train', 'valid', 'test']) bodies[`/ptb.${s}.txt`] = readFileSync(join(fixturePath('ptb-tiny'), `ptb.${s}.txt`));
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
  const checksums = Object.fromEntries(Object.entries(bodies).map(([k, v]) => [k.slice(1), md5(v)]));
  const requests: string[] = [];
  let server: Server;
  let base = '';
  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url ?? '');
      const body = bodies[req.url ?? ''];
      if (!body) return void res.writeHead(404).end('not found');
      res.writeHead(200, { 'content-length': body.length }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => new Promise<void>((r) => server.close(() => r())));

  test('fetches the three files into ptb/, verified; a second call fetches nothing; loadTextCorpus reads them', async () => {
    const dir = join(tmp.path, 'dl');
    const r = await downloadPtb(dir, { baseUrl: base, checksums });
    assert.deepEqual(r.fetched, ['train', 'valid', 'test'].map((s) => join(dir, 'ptb', `ptb.${s}.txt`)));
    const n = requests.length;
    assert.deepEqual((await downloadPtb(dir, { baseUrl: base, checksums })).fetched, []);
    assert.equal(requests.length, n);
    const c = await loadTextCorpus('ptb', { dataDir: dir });
    assert.equal(corpusFingerprint(c), corpusFingerprint(readPtb(tiny())));
  });

  test('loadTextCorpus with download fetches only when the files are missing', async () => {
    const dir = join(tmp.path, 'dl2');
    await assert.rejects(loadTextCorpus('ptb', { dataDir: dir }), (e: unknown) => e instanceof DataError && e.message.includes('--download'));
    const c = await loadTextCorpus('ptb', { dataDir: dir, download: true, downloadOptions: { baseUrl: base, checksums } });
    assert.equal(c.vocab.length, 20);
    assert.ok(existsSync(join(dir, 'ptb', 'ptb.test.txt')));
  });

  test('a checksum mismatch is rejected: nothing is written; the official MD5s apply by default', async () => {
    const dir = join(tmp.path, 'bad');
    await assert.rejects(
      downloadPtb(dir, { baseUrl: base, checksums: { ...checksums, 'ptb.valid.txt': '0'.repeat(32) } }),
      (e: unknown) => e instanceof DataError && e.message.includes('checksum mismatch') && e.message.includes(checksums['ptb.valid.txt']!),
    );
    assert.ok(!existsSync(join(dir, 'ptb', 'ptb.valid.txt')));
    assert.ok(!readdirSync(join(dir, 'ptb')).some((f) => f.includes('.part')), 'no partial file left');
    await assert.rejects(downloadPtb(join(tmp.path, 'official'), { baseUrl: base }), (e: unknown) => e instanceof DataError && e.message.includes('f26c4b92c5fdc7b3f8c7cdcb991d8420'));
  });
});

describe('embedded corpus common-licenses', () => {
  test('PTB-style tokens: lower case, numbers → N, punctuation dropped, Treebank splits', () => {
    assert.deepEqual(ptbTokens('Version 2.1, February 1999 (see Section 4(b)).'), ['version', 'N', 'february', 'N', 'see', 'section', 'N', 'b']);
    assert.deepEqual(ptbTokens("The Licensor's terms don't apply to third-party \"works\"."), ['the', 'licensor', "'s", 'terms', 'do', "n't", 'apply', 'to', 'third-party', 'works']);
    assert.deepEqual(sentences('One line\nwrapped here. Two!\n\n  Three?  '), ['One line wrapped here.', 'Two!', 'Three?']);
  });

  test('the split is by sentence index (8 → valid, 9 → test), rare words → <unk>, PTB line format', () => {
    const doc = Array.from({ length: 20 }, (_, k) => `Word${'abcdefghijklmnopqrst'[k]} common common.`).join(' ');
    const t = ptbFormatTexts([doc], 4); // keeps the 2 most frequent training words
    assert.equal(textLines(t.train).length, 16);
    assert.deepEqual(textLines(t.valid), [' <unk> common common ', ' <unk> common common ']);
    assert.equal(textLines(t.test).length, 2);
    assert.ok(textLines(t.train)[0]!.startsWith(' ') && textLines(t.train)[0]!.endsWith(' '));
  });

  test('built from the base-files licence texts: deterministic, real English, vocabulary capped', { skip: !existsSync(join(COMMON_LICENSES_DIR, 'GPL-3')) && 'no /usr/share/common-licenses' }, () => {
    const c = readCommonLicenses();
    const again = readCommonLicenses();
    assert.equal(corpusFingerprint(c), corpusFingerprint(again));
    assert.equal(c.vocab.length, 1000);
    assert.ok(c.train.length > 25000 && c.valid.length > 2500 && c.test.length > 2500, `${c.train.length}/${c.valid.length}/${c.test.length} tokens`);
    for (const w of ['the', 'license', 'software', 'N', UNK, EOS]) assert.ok(c.vocab.includes(w), w);
    assert.ok(c.vocab.every((w) => w === 'N' || (w === w.toLowerCase() && !/^\d/.test(w))), 'lower case, numbers are N');
    assert.equal(c.oov.valid, 0, 'rare words were mapped to <unk> before the vocabulary was built');
    assert.ok(readCommonLicenses({ vocabSize: 500 }).vocab.length === 500);
    assert.throws(() => readCommonLicenses({ dir: join(tmp.path, 'none') }), (e: unknown) => e instanceof DataError && e.message.includes('GPL-3') && (e.hint ?? '').includes('base-files'));
  });
});
