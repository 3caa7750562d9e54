import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../../src/util/rng.js';
import { drawAugment, makeBatch, normalisationTable, renderImage, NORMALISATION, type ImageDataset } from '../../src/data/index.js';

/** A dataset whose pixels are all distinct-ish and never 0, so padding and cutout are visible. */
function fixture(n: number, channels: number, height: number, width: number, name = 'cifar10'): ImageDataset {
  const images = new Uint8Array(n * channels * height * width);
  for (let k = 0; k < images.length; k++) images[k] = 1 + ((k * 13) % 254);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 10);
  const norm = channels === 3 ? NORMALISATION.cifar10 : NORMALISATION['fashion-mnist'];
  return { name, split: 'train', images, labels, n, channels, height, width, numClasses: 10, mean: [...norm.mean], std: [...norm.std] };
}

const at = (x: Float32Array, C: number, H: number, W: number, i: number, c: number, h: number, w: number) => x[((i * C + c) * H + h) * W + w]!;

describe('normalisation', () => {
  test('values match (v/255 − mean)/std in float32, including the extremes', () => {
    const lut = normalisationTable(NORMALISATION.cifar10.mean, NORMALISATION.cifar10.std);
    // independent reference values (double precision), float32 agreement to 1 ulp-ish
    assert.ok(Math.abs(lut[255]! - (1 - 0.49139968) / 0.24703233) < 1e-6);
    assert.ok(Math.abs(lut[0]! - -0.49139968 / 0.24703233) < 1e-6);
    assert.ok(Math.abs(lut[2 * 256 + 128]! - (128 / 255 - 0.44653124) / 0.26158768) < 1e-6);
    // exact float32 arithmetic as PyTorch does it
    const f = Math.fround;
    for (const [c, v] of [[0, 0], [1, 77], [2, 255], [0, 200]] as const) {
      const m = NORMALISATION.cifar10.mean[c]!;
      const s = NORMALISATION.cifar10.std[c]!;
      assert.equal(lut[c * 256 + v], f(f(f(v / 255) - f(m)) / f(s)));
    }
  });

  test('makeBatch without augmentation is plain normalisation in NCHW, labels carried', () => {
    const ds = fixture(4, 3, 8, 6);
    const b = makeBatch(ds, [3, 1], { augment: false }, new Rng(0));
    assert.deepEqual(b.shape, [2, 3, 8, 6]);
    assert.deepEqual([...b.y], [3, 1]);
    const lut = normalisationTable(ds.mean, ds.std);
    for (const [k, i] of [[0, 3], [1, 1]] as const)
      for (let c = 0; c < 3; c++)
        for (let h = 0; h < 8; h++)
          for (let w = 0; w < 6; w++) assert.equal(at(b.x, 3, 8, 6, k, c, h, w), lut[c * 256 + ds.images[((i * 3 + c) * 8 + h) * 6 + w]!]);
  });
});

describe('augmentation', () => {
  const ds = fixture(6, 3, 10, 12);
  const lut = normalisationTable(ds.mean, ds.std);

  /** Reference: explicit zero padding by 4, crop at (4+dy, 4+dx), then mirror, then normalise. */
  function reference(i: number, dy: number, dx: number, flip: boolean): Float32Array {
    const { channels: C, height: H, width: W } = ds;
    const P = 4;
    const out = new Float32Array(C * H * W);
    for (let c = 0; c < C; c++) {
      const padded = new Uint8Array((H + 2 * P) * (W + 2 * P));
      for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) padded[(h + P) * (W + 2 * P) + w + P] = ds.images[((i * C + c) * H + h) * W + w]!;
      for (let h = 0; h < H; h++)
        for (let w = 0; w < W; w++) {
          const cw = flip ? W - 1 - w : w;
          out[(c * H + h) * W + w] = lut[c * 256 + padded[(h + P + dy) * (W + 2 * P) + cw + P + dx]!]!;
        }
    }
    return out;
  }

  test('crop + flip equal an explicit pad-crop-mirror reference for each drawn augmentation', () => {
    const rng = new Rng(42);
    const twin = new Rng(42);
    const idx = [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5];
    const b = makeBatch(ds, idx, { augment: true }, rng);
    const size = 3 * 10 * 12;
    idx.forEach((i, k) => {
      const p = drawAugment(twin, 10, 12, { augment: true });
      assert.ok(p.dy >= -4 && p.dy <= 4 && p.dx >= -4 && p.dx <= 4);
      assert.deepEqual(b.x.subarray(k * size, (k + 1) * size), reference(i, p.dy, p.dx, p.flip));
    });
    assert.deepEqual(rng.getState(), twin.getState(), 'makeBatch consumes exactly the documented draws');
  });

  test('same seed → same batch; another seed → another batch', () => {
    const a = makeBatch(ds, [0, 1, 2, 3], { augment: true, cutout: { length: 4, prob: 0.5 } }, new Rng(5));
    const b = makeBatch(ds, [0, 1, 2, 3], { augment: true, cutout: { length: 4, prob: 0.5 } }, new Rng(5));
    const c = makeBatch(ds, [0, 1, 2, 3], { augment: true, cutout: { length: 4, prob: 0.5 } }, new Rng(6));
    assert.deepEqual(a.x, b.x);
    assert.notDeepEqual(a.x, c.x);
  });

  test('flip mirrors each row; padded pixels become (0 − mean)/std', () => {
    const out = new Float32Array(3 * 10 * 12);
    renderImage(ds, 2, { dy: 0, dx: 0, flip: true, cutout: null }, lut, out, 0);
    for (let c = 0; c < 3; c++) for (let h = 0; h < 10; h++) for (let w = 0; w < 12; w++) assert.equal(out[(c * 10 + h) * 12 + w], lut[c * 256 + ds.images[((2 * 3 + c) * 10 + h) * 12 + (11 - w)]!]);
    renderImage(ds, 2, { dy: -4, dx: 3, flip: false, cutout: null }, lut, out, 0);
    for (let c = 0; c < 3; c++) {
      const padVal = Math.fround((0 - Math.fround(ds.mean[c]!)) / Math.fround(ds.std[c]!));
      for (let w = 0; w < 12; w++) for (let h = 0; h < 4; h++) assert.equal(out[(c * 10 + h) * 12 + w], padVal, 'top rows padded');
      for (let h = 0; h < 10; h++) for (let w = 9; w < 12; w++) assert.equal(out[(c * 10 + h) * 12 + w], padVal, 'right columns padded');
      assert.equal(out[(c * 10 + 4) * 12 + 0], lut[c * 256 + ds.images[((2 * 3 + c) * 10 + 0) * 12 + 3]!]);
    }
  });

  test('over many draws offsets cover −4..4 and flips are about half', () => {
    const rng = new Rng(1);
    const seen = new Set<number>();
    let flips = 0;
    const N = 4000;
    for (let t = 0; t < N; t++) {
      const p = drawAugment(rng, 32, 32, { augment: true });
      seen.add(p.dy);
      seen.add(p.dx);
      if (p.flip) flips++;
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), [-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    assert.ok(Math.abs(flips / N - 0.5) < 0.04, `flip rate ${flips / N}`);
  });
});

describe('cutout', () => {
  const ds = fixture(3, 3, 32, 32);
  const lut = normalisationTable(ds.mean, ds.std);

  test('zeroes exactly the clipped square [y−8, y+8) × [x−8, x+8) on all channels, after normalisation', () => {
    const out = new Float32Array(3 * 32 * 32);
    renderImage(ds, 1, { dy: 0, dx: 0, flip: false, cutout: { y: 3, x: 27 } }, lut, out, 0, 16);
    for (let c = 0; c < 3; c++)
      for (let h = 0; h < 32; h++)
        for (let w = 0; w < 32; w++) {
          const inside = h < 11 && w >= 19;
          const v = out[(c * 32 + h) * 32 + w]!;
          if (inside) assert.equal(v, 0, `(${c},${h},${w}) should be cut`);
          else assert.equal(v, lut[c * 256 + ds.images[((1 * 3 + c) * 32 + h) * 32 + w]!]);
        }
    // centre in the middle: a full 16×16 square
    renderImage(ds, 1, { dy: 0, dx: 0, flip: false, cutout: { y: 16, x: 16 } }, lut, out, 0, 16);
    assert.equal(out.filter((v) => v === 0).length, 3 * 16 * 16);
  });

  test('probability 0 never, 1 always, 0.5 about half; works without crop/flip too', () => {
    const idx = Array.from({ length: 200 }, (_, k) => k % 3);
    const count = (prob: number, augment: boolean) => {
      const b = makeBatch(ds, idx, { augment, cutout: { length: 8, prob } }, new Rng(9));
      let hit = 0;
      for (let k = 0; k < idx.length; k++) if (b.x.subarray(k * 3072, (k + 1) * 3072).some((v) => v === 0)) hit++;
      return hit;
    };
    assert.equal(count(0, true), 0);
    assert.equal(count(1, false), 200);
    const half = count(0.5, true);
    assert.ok(half > 70 && half < 130, `${half} of 200`);
  });

  test('invalid cutout options are refused', () => {
    assert.throws(() => makeBatch(ds, [0], { augment: true, cutout: { length: 0, prob: 1 } }, new Rng(0)), /cutout length/);
    assert.throws(() => makeBatch(ds, [0], { augment: true, cutout: { length: 16, prob: 2 } }, new Rng(0)), /cutout probability/);
    assert.throws(() => makeBatch(ds, [7], { augment: false }, new Rng(0)), /outside/);
  });
});

describe('grayscale', () => {
  test('channels = 1 (28×28) batches with crop, flip and cutout', () => {
    const ds = fixture(5, 1, 28, 28, 'fashion-mnist');
    const b = makeBatch(ds, [4, 0, 2], { augment: true, cutout: { length: 6, prob: 1 } }, new Rng(3));
    assert.deepEqual(b.shape, [3, 1, 28, 28]);
    assert.equal(b.x.length, 3 * 784);
    assert.deepEqual([...b.y], [4, 0, 2]);
    const twin = new Rng(3);
    const p = drawAugment(twin, 28, 28, { augment: true, cutout: { length: 6, prob: 1 } });
    assert.ok(p.cutout);
    const lut = normalisationTable(ds.mean, ds.std);
    const out = new Float32Array(784);
    renderImage(ds, 4, p, lut, out, 0, 6);
    assert.deepEqual(b.x.subarray(0, 784), out);
    assert.ok(Math.abs(lut[0]! - -0.286 / 0.353) < 1e-6);
  });
});
