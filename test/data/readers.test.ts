import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/errors.js';
import {
  classCounts,
  datasetFingerprint,
  loadDatasetSync,
  readCifar10,
  readCifar100,
  readFashionMnist,
  readMat,
  readSvhn,
  syntheticDataset,
  type ImageDataset,
} from '../../src/data/index.js';
import { cifarRecords, idx, matFile, matMatrix, mi, mx, pixel, svhnMat } from './helpers.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('readers');
after(tmp.cleanup);

function px(ds: ImageDataset, i: number, c: number, h: number, w: number): number {
  return ds.images[((i * ds.channels + c) * ds.height + h) * ds.width + w]!;
}

function assertDataError(fn: () => unknown, ...needles: string[]): DataError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof DataError, `expected DataError, got ${String(err)}`);
  for (const s of needles) assert.ok(err.message.includes(s), `message lacks ${JSON.stringify(s)}:\n${err.message}`);
  return err;
}

describe('CIFAR-10 binary', () => {
  const parent = join(tmp.path, 'c10');
  const folder = join(parent, 'cifar-10-batches-bin');
  mkdirSync(folder, { recursive: true });
  // data_batch_k holds 2 records: images 2(k-1), 2(k-1)+1
  for (let k = 1; k <= 5; k++) writeFileSync(join(folder, `data_batch_${k}.bin`), cifarRecords([[k - 1], [(k + 4) % 10]], 2 * (k - 1)));
  writeFileSync(join(folder, 'test_batch.bin'), cifarRecords([[3], [9], [0]]));

  test('reads train split from the parent folder in NCHW with exact pixels and labels', () => {
    const ds = readCifar10(parent, 'train');
    assert.equal(ds.n, 10);
    assert.deepEqual([ds.channels, ds.height, ds.width, ds.numClasses], [3, 32, 32, 10]);
    assert.deepEqual([...ds.labels], [0, 5, 1, 6, 2, 7, 3, 8, 4, 9]);
    for (const [i, c, h, w] of [[0, 0, 0, 0], [7, 2, 31, 5], [9, 1, 3, 30], [4, 2, 17, 0]] as const) {
      assert.equal(px(ds, i, c, h, w), pixel(i, c, h, w), `pixel (${i},${c},${h},${w})`);
    }
    assert.deepEqual(ds.mean, [0.49139968, 0.48215827, 0.44653124]);
    assert.deepEqual(ds.std, [0.24703233, 0.24348505, 0.26158768]);
  });

  test('reads the test split from the folder itself', () => {
    const ds = readCifar10(folder, 'test');
    assert.equal(ds.n, 3);
    assert.deepEqual([...ds.labels], [3, 9, 0]);
    assert.equal(px(ds, 2, 1, 10, 20), pixel(2, 1, 10, 20));
  });

  test('missing folder names every expected file, the URL and the flags', () => {
    const missing = join(tmp.path, 'nowhere');
    const err = assertDataError(
      () => readCifar10(missing, 'train'),
      ...[1, 2, 3, 4, 5].map((i) => join(missing, 'cifar-10-batches-bin', `data_batch_${i}.bin`)),
      'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
      '--data-dir',
      '--download',
      'does not exist',
    );
    assert.equal(err.exitCode, 3);
    assert.ok(err.hint?.includes('--download'));
  });

  test('a missing batch is flagged among the listed files', () => {
    const p = join(tmp.path, 'c10-partial', 'cifar-10-batches-bin');
    mkdirSync(p, { recursive: true });
    for (let k = 1; k <= 4; k++) writeFileSync(join(p, `data_batch_${k}.bin`), cifarRecords([[1]]));
    assertDataError(() => readCifar10(join(tmp.path, 'c10-partial'), 'train'), `${join(p, 'data_batch_5.bin')} [missing]`, join(p, 'data_batch_1.bin'));
  });

  test('a truncated file is detected', () => {
    const p = join(tmp.path, 'c10-trunc');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'test_batch.bin'), cifarRecords([[1], [2]]).subarray(0, 3073 + 100));
    assertDataError(() => readCifar10(p, 'test'), join(p, 'test_batch.bin'), '3173 bytes', '3073-byte', 'truncated');
  });

  test('a label outside 0..9 is detected', () => {
    const p = join(tmp.path, 'c10-badlabel');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'test_batch.bin'), cifarRecords([[1], [12]]));
    assertDataError(() => readCifar10(p, 'test'), 'record 1 has label 12');
  });
});

describe('CIFAR-100 binary', () => {
  const folder = join(tmp.path, 'c100', 'cifar-100-binary');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'train.bin'), cifarRecords([[3, 42], [19, 99], [0, 7]]));
  writeFileSync(join(folder, 'test.bin'), cifarRecords([[5, 55]]));

  test('uses fine labels and 100 classes', () => {
    const ds = readCifar100(join(tmp.path, 'c100'), 'train');
    assert.equal(ds.n, 3);
    assert.equal(ds.numClasses, 100);
    assert.deepEqual([...ds.labels], [42, 99, 7]);
    assert.equal(px(ds, 1, 2, 31, 31), pixel(1, 2, 31, 31));
    assert.equal(px(ds, 2, 0, 4, 9), pixel(2, 0, 4, 9));
    assert.deepEqual(ds.mean, [0.5071, 0.4865, 0.4409]);
    assert.equal(readCifar100(folder, 'test').labels[0], 55);
  });

  test('record size 3074 is checked', () => {
    const p = join(tmp.path, 'c100-trunc');
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, 'test.bin'), cifarRecords([[1]]).subarray(0, 3073)); // a CIFAR-10-sized record
    assertDataError(() => readCifar100(p, 'test'), '3074-byte', 'test.bin');
  });

  test('missing files name the CIFAR-100 archive', () => {
    assertDataError(() => readCifar100(join(tmp.path, 'none100'), 'test'), 'cifar-100-binary.tar.gz', join(tmp.path, 'none100', 'cifar-100-binary', 'test.bin'));
  });
});

describe('MAT v5 and SVHN', () => {
  const ys = [10, 1, 5, 3];
  const variants = [
    { label: 'uncompressed little-endian', compress: false, le: true },
    { label: 'miCOMPRESSED little-endian', compress: true, le: true },
    { label: 'uncompressed big-endian, y stored as uint8', compress: false, le: false, yAsUint8: true },
    { label: 'miCOMPRESSED big-endian', compress: true, le: false },
  ];
  for (const v of variants) {
    test(`SVHN ${v.label}: column-major X → NCHW, label 10 → 0`, () => {
      const dir = join(tmp.path, `svhn-${v.compress}-${v.le}`);
      mkdirSync(join(dir, 'svhn'), { recursive: true });
      writeFileSync(join(dir, 'svhn', 'train_32x32.mat'), svhnMat(ys, v));
      const ds = readSvhn(dir, 'train');
      assert.equal(ds.n, 4);
      assert.deepEqual([ds.channels, ds.height, ds.width, ds.numClasses], [3, 32, 32, 10]);
      assert.deepEqual([...ds.labels], [0, 1, 5, 3]);
      for (const [i, c, h, w] of [[0, 0, 0, 1], [1, 0, 1, 0], [3, 2, 31, 7], [2, 1, 6, 29]] as const) {
        assert.equal(px(ds, i, c, h, w), pixel(i, c, h, w), `pixel (${i},${c},${h},${w})`);
      }
      assert.deepEqual(ds.mean, [0.4377, 0.4438, 0.4728]);
      assert.deepEqual(ds.std, [0.198, 0.201, 0.197]);
    });
  }

  test('readMat returns classes, dims, names (small elements) and converts stored types', () => {
    const file = matFile(
      [
        matMatrix('a', mx.DOUBLE, [2, 3], mi.UINT8, Uint8Array.from([1, 2, 3, 4, 5, 250]), true),
        matMatrix('long_variable_name', mx.UINT8, [1, 2], mi.UINT8, Uint8Array.from([7, 8]), true),
      ],
      { compress: false, le: true },
    );
    const vars = readMat(file);
    const a = vars.get('a')!;
    assert.equal(a.className, 'double');
    assert.deepEqual(a.dims, [2, 3]);
    assert.ok(a.data instanceof Float64Array);
    assert.deepEqual([...a.data], [1, 2, 3, 4, 5, 250]);
    assert.deepEqual([...vars.get('long_variable_name')!.data!], [7, 8]);
  });

  test('truncated MAT file is detected', () => {
    const dir = join(tmp.path, 'svhn-trunc');
    mkdirSync(dir, { recursive: true });
    const full = svhnMat(ys, { compress: false, le: true });
    writeFileSync(join(dir, 'test_32x32.mat'), full.subarray(0, full.length - 500));
    assertDataError(() => readSvhn(dir, 'test'), join(dir, 'test_32x32.mat'), 'truncated');
    const z = svhnMat(ys, { compress: true, le: true });
    writeFileSync(join(dir, 'test_32x32.mat'), z.subarray(0, z.length - 40));
    assertDataError(() => readSvhn(dir, 'test'), 'truncated');
  });

  test('bad header and HDF5 (v7.3) files are refused clearly', () => {
    const dir = join(tmp.path, 'svhn-bad');
    mkdirSync(dir, { recursive: true });
    const f = svhnMat(ys, { compress: false, le: true });
    f[126] = 0x41;
    writeFileSync(join(dir, 'test_32x32.mat'), f);
    assertDataError(() => readSvhn(dir, 'test'), 'bad MAT-file header');
    writeFileSync(join(dir, 'test_32x32.mat'), new Uint8Array(100));
    assertDataError(() => readSvhn(dir, 'test'), '128-byte');
    const h5 = new Uint8Array(1024);
    h5.set(new TextEncoder().encode('MATLAB 7.3 MAT-file, Platform: GLNXA64'));
    writeFileSync(join(dir, 'test_32x32.mat'), h5);
    assertDataError(() => readSvhn(dir, 'test'), '7.3', 'HDF5');
  });

  test('missing SVHN file names the .mat file and its URL', () => {
    const d = join(tmp.path, 'svhn-none');
    assertDataError(() => readSvhn(d, 'test'), join(d, 'svhn', 'test_32x32.mat'), 'http://ufldl.stanford.edu/housenumbers/test_32x32.mat', '--data-dir', '--download');
  });
});

describe('Fashion-MNIST IDX', () => {
  const images = new Uint8Array(5 * 28 * 28).map((_, k) => (k * 7) & 255);
  const labels = Uint8Array.from([9, 0, 3, 3, 1]);

  test('gzipped and plain IDX read back exactly (folder or parent)', () => {
    const gz = join(tmp.path, 'fm-gz', 'fashion-mnist');
    mkdirSync(gz, { recursive: true });
    writeFileSync(join(gz, 't10k-images-idx3-ubyte.gz'), gzipSync(idx([5, 28, 28], images)));
    writeFileSync(join(gz, 't10k-labels-idx1-ubyte.gz'), gzipSync(idx([5], labels)));
    const plain = join(tmp.path, 'fm-plain');
    mkdirSync(plain, { recursive: true });
    writeFileSync(join(plain, 't10k-images-idx3-ubyte'), idx([5, 28, 28], images));
    writeFileSync(join(plain, 't10k-labels-idx1-ubyte'), idx([5], labels));
    for (const ds of [readFashionMnist(join(tmp.path, 'fm-gz'), 'test'), readFashionMnist(plain, 'test')]) {
      assert.equal(ds.n, 5);
      assert.deepEqual([ds.channels, ds.height, ds.width], [1, 28, 28]);
      assert.deepEqual([...ds.labels], [9, 0, 3, 3, 1]);
      assert.equal(px(ds, 3, 0, 12, 17), ((3 * 784 + 12 * 28 + 17) * 7) & 255);
      assert.deepEqual(ds.mean, [0.286]);
      assert.deepEqual(ds.std, [0.353]);
    }
  });

  test('wrong magic, count mismatch and truncation are detected', () => {
    const d = join(tmp.path, 'fm-bad');
    mkdirSync(d, { recursive: true });
    const lab = join(d, 't10k-labels-idx1-ubyte');
    const img = join(d, 't10k-images-idx3-ubyte');
    writeFileSync(img, idx([5, 28, 28], images));
    writeFileSync(lab, idx([4], labels.subarray(0, 4)));
    assertDataError(() => readFashionMnist(d, 'test'), 'count mismatch', '4 labels', '5 images');
    const bad = idx([5], labels);
    bad[2] = 0x0d;
    writeFileSync(lab, bad);
    assertDataError(() => readFashionMnist(d, 'test'), 'not supported', lab);
    const magic = idx([5], labels);
    magic[0] = 0x50;
    writeFileSync(lab, magic);
    assertDataError(() => readFashionMnist(d, 'test'), 'wrong IDX magic');
    writeFileSync(lab, idx([5], labels));
    writeFileSync(img, idx([5, 28, 28], images).subarray(0, 2000));
    assertDataError(() => readFashionMnist(d, 'test'), 'truncated', img);
    writeFileSync(img, gzipSync(idx([5, 28, 28], images)).subarray(0, 100));
    assertDataError(() => readFashionMnist(d, 'test'), 'truncated or corrupt');
    writeFileSync(img, idx([5], labels));
    assertDataError(() => readFashionMnist(d, 'test'), '1 dimensions, expected 3');
  });

  test('missing files list gz names and the flags', () => {
    const d = join(tmp.path, 'fm-none');
    assertDataError(() => readFashionMnist(d, 'train'), join(d, 'fashion-mnist', 'train-images-idx3-ubyte.gz'), join(d, 'fashion-mnist', 'train-labels-idx1-ubyte.gz'), '--data-dir', '--download');
  });

  const real = '/usr/share/datasets/fashion-mnist';
  test('the real Fashion-MNIST loads 60000/10000 balanced images', { skip: !existsSync(real) && 'no system copy' }, () => {
    const train = loadDatasetSync('fashion-mnist', { split: 'train', dataDir: real });
    const testSet = loadDatasetSync('fashion-mnist', { split: 'test', dataDir: real });
    assert.equal(train.n, 60000);
    assert.equal(testSet.n, 10000);
    assert.deepEqual([train.channels, train.height, train.width], [1, 28, 28]);
    assert.deepEqual(classCounts(train), new Array(10).fill(6000));
    assert.deepEqual(classCounts(testSet), new Array(10).fill(1000));
    // the chosen normalisation constants match the training set's statistics
    let s = 0;
    let s2 = 0;
    for (const v of train.images) {
      s += v;
      s2 += v * v;
    }
    const m = s / train.images.length / 255;
    const sd = Math.sqrt(s2 / train.images.length / 65025 - m * m);
    assert.ok(Math.abs(m - 0.286) < 5e-4, `mean ${m}`);
    assert.ok(Math.abs(sd - 0.353) < 5e-4, `std ${sd}`);
  });
});

describe('synthetic dataset and loadDataset', () => {
  test('deterministic under a seed, labels in range, learnable by nearest class mean', () => {
    const a = syntheticDataset({ n: 400, channels: 3, height: 16, width: 16, numClasses: 5, seed: 7 });
    const b = syntheticDataset({ n: 400, channels: 3, height: 16, width: 16, numClasses: 5, seed: 7 });
    const c = syntheticDataset({ n: 400, channels: 3, height: 16, width: 16, numClasses: 5, seed: 8 });
    assert.equal(datasetFingerprint(a), datasetFingerprint(b));
    assert.notEqual(datasetFingerprint(a), datasetFingerprint(c));
    assert.ok(a.labels.every((y) => y >= 0 && y < 5));
    assert.ok(classCounts(a).every((k) => k > 40));
    // features: mean per (channel, half); centroids from train, accuracy on test
    const feats = (ds: ImageDataset, i: number) => {
      const f: number[] = [];
      for (let ch = 0; ch < ds.channels; ch++)
        for (const [h0, h1] of [[0, ds.height / 2], [ds.height / 2, ds.height]] as const) {
          let s = 0;
          for (let h = h0; h < h1; h++) for (let w = 0; w < ds.width; w++) s += px(ds, i, ch, h, w);
          f.push(s / ((h1 - h0) * ds.width));
        }
      return f;
    };
    const cent = Array.from({ length: 5 }, () => new Array(6).fill(0));
    const cnt = new Array(5).fill(0);
    for (let i = 0; i < a.n; i++) {
      const f = feats(a, i);
      cnt[a.labels[i]!]++;
      f.forEach((v, j) => (cent[a.labels[i]!]![j] += v));
    }
    cent.forEach((row, k) => row.forEach((_, j) => (row[j] /= cnt[k])));
    const t = syntheticDataset({ n: 200, channels: 3, height: 16, width: 16, numClasses: 5, seed: 7, split: 'test' });
    let correct = 0;
    for (let i = 0; i < t.n; i++) {
      const f = feats(t, i);
      const d = cent.map((row) => row.reduce((s, v, j) => s + (v - f[j]!) ** 2, 0));
      if (d.indexOf(Math.min(...d)) === t.labels[i]) correct++;
    }
    assert.ok(correct / t.n > 0.9, `accuracy ${correct / t.n}`);
  });

  test('grayscale synthetic data works', () => {
    const g = syntheticDataset({ n: 10, channels: 1, height: 28, width: 28, numClasses: 3, seed: 1 });
    assert.equal(g.images.length, 10 * 28 * 28);
    assert.deepEqual(g.mean, [0.5]);
  });

  test('subset keeps k images in natural order, deterministically', () => {
    const full = loadDatasetSync('synthetic', { split: 'train', synthetic: { n: 100, height: 8, width: 8 } });
    const sub = loadDatasetSync('synthetic', { split: 'train', subset: 10, subsetSeed: 3, synthetic: { n: 100, height: 8, width: 8 } });
    const sub2 = loadDatasetSync('synthetic', { split: 'train', subset: 10, subsetSeed: 3, synthetic: { n: 100, height: 8, width: 8 } });
    assert.equal(sub.n, 10);
    assert.equal(datasetFingerprint(sub), datasetFingerprint(sub2));
    // each subset image is one of the full set's images, with its label
    const size = 3 * 64;
    let last = -1;
    for (let k = 0; k < sub.n; k++) {
      const img = Buffer.from(sub.images.subarray(k * size, (k + 1) * size));
      let found = -1;
      for (let i = 0; i < full.n; i++) if (img.equals(full.images.subarray(i * size, (i + 1) * size))) found = i;
      assert.ok(found > last, 'ascending original indices');
      assert.equal(sub.labels[k], full.labels[found]);
      last = found;
    }
    assert.throws(() => loadDatasetSync('synthetic', { split: 'train', subset: 0 }), DataError);
  });

  test('loadDatasetSync reads CIFAR-10 via dataDir and rejects unknown names', () => {
    const ds = loadDatasetSync('cifar10', { split: 'test', dataDir: join(tmp.path, 'c10') });
    assert.equal(ds.n, 3);
    assert.throws(() => loadDatasetSync('imagenet' as never, { split: 'test' }), (e: unknown) => e instanceof DataError && /unknown dataset/.test(e.message));
  });
});
