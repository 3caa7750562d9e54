/**
 * The synthetic stereo stand-in (exact disparity, determinism) and stereoBatch's augmentation
 * (strength 0 = identity, s > 0 keeps the disparity target on the same crop as the images).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateSyntheticStereo, loadStereo, stereoBatch, stereoFingerprint, type StereoDataset } from '../../src/data/index.js';
import { Rng } from '../../src/util/rng.js';

describe('synthetic stereo generator', () => {
  const g = generateSyntheticStereo({ n: 6, height: 32, width: 64, seed: 11 });
  const { height: H, width: W } = g;
  const P = H * W;

  test('re-rendering the right view from the left view and the disparity matches it away from occlusions', () => {
    // Occlusion derived independently of the generator, from the left disparity alone: the left
    // pixel (x, d) is hidden in the right view when x − d < 0 or a nearer left pixel (d′ > d)
    // lands on the same right pixel x′ − d′ = x − d; the right edge band is left out (below).
    let visible = 0;
    let matched = 0;
    let unshiftedEqual = 0;
    let shifted = 0;
    let genVisibleMismatch = 0;
    for (let i = 0; i < g.n; i++) {
      for (let y = 0; y < H; y++) {
        const nearest = new Float64Array(W).fill(-Infinity); // largest d landing on each right pixel
        for (let x = 0; x < W; x++) {
          const d = g.disparity[i * P + y * W + x]!;
          assert.ok(Number.isInteger(d) && d >= 0, `integer disparity, got ${d}`);
          if (x - d >= 0) nearest[x - d] = Math.max(nearest[x - d]!, d);
        }
        for (let x = 0; x < W; x++) {
          const d = g.disparity[i * P + y * W + x]!;
          const eq = (xr: number): boolean => [0, 1, 2].every((c) => Math.abs(g.right[(i * 3 + c) * P + y * W + xr]! - g.left[(i * 3 + c) * P + y * W + x]!) <= 1e-5);
          if (!g.occluded[i * P + y * W + x] && !eq(x - d)) genVisibleMismatch++;
          if (x - d < 0 || nearest[x - d]! > d) {
            assert.equal(g.occluded[i * P + y * W + x], 1, 'a pixel hidden by a nearer one is marked occluded');
            continue;
          }
          // right pixels within maxDisparity of the right edge may show a nearer shape whose left-view
          // part lies beyond the left frame (x′ = x_r + d′ ≥ W), which the left view cannot reveal
          if (x - d >= W - g.maxDisparity) continue;
          visible++;
          if (eq(x - d)) matched++;
          if (d > 0) {
            shifted++;
            if (eq(x)) unshiftedEqual++;
          }
        }
      }
    }
    assert.equal(genVisibleMismatch, 0, 'every pixel the generator marks visible matches exactly');
    assert.ok(visible > 0.6 * g.n * P, `most pixels visible (${visible})`);
    assert.ok(matched / visible >= 0.999, `matched ${matched} of ${visible}`);
    // the disparity is not trivially zero: without the shift the views do not match
    assert.ok(shifted > 0.4 * visible && unshiftedEqual / shifted < 0.01, `unshifted matches ${unshiftedEqual} of ${shifted}`);
  });

  test('values, disparity range, texture and the occluded-NaN option', () => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of g.left) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.5, `left values in [0, 1] with contrast: ${lo}..${hi}`);
    assert.equal(g.maxDisparity, Math.max(...g.disparity));
    assert.ok(g.maxDisparity <= 8 && g.maxDisparity >= 5, `max disparity ${g.maxDisparity} ≤ default width/8 = 8`);
    // horizontal neighbours differ almost everywhere (matching is possible)
    let same = 0;
    for (let p = 0; p < g.n * 3 * P; p++) if (p % W !== W - 1 && g.left[p] === g.left[p + 1]) same++;
    assert.ok(same / (g.n * 3 * P) < 0.01, `flat neighbours ${same}`);
    const nan = generateSyntheticStereo({ n: 6, height: 32, width: 64, seed: 11, occludedNaN: true });
    let occ = 0;
    for (let p = 0; p < g.n * P; p++) {
      assert.equal(Number.isNaN(nan.disparity[p]!), g.occluded[p] === 1);
      if (g.occluded[p]) occ++;
      else assert.equal(nan.disparity[p], g.disparity[p]);
    }
    assert.ok(occ > 0, 'some pixels are occluded');
    assert.deepEqual(nan.left, g.left);
    assert.ok(g.source.includes('seed 11') && g.source.includes('not FlyingThings3D'));
  });

  test('deterministic: same seed → same bytes, other seed → different, pair i independent of n', () => {
    const again = generateSyntheticStereo({ n: 6, height: 32, width: 64, seed: 11 });
    assert.equal(stereoFingerprint(again), stereoFingerprint(g));
    assert.deepEqual(again.right, g.right);
    assert.deepEqual(again.disparity, g.disparity);
    const other = generateSyntheticStereo({ n: 6, height: 32, width: 64, seed: 12 });
    assert.notEqual(stereoFingerprint(other), stereoFingerprint(g));
    assert.notDeepEqual(other.left, g.left);
    const fewer = generateSyntheticStereo({ n: 2, height: 32, width: 64, seed: 11 });
    assert.deepEqual(fewer.left, g.left.subarray(0, 2 * 3 * P));
    assert.deepEqual(fewer.disparity, g.disparity.subarray(0, 2 * P));
    const train = loadStereo({ kind: 'synthetic', limit: 2, synthetic: { height: 16, width: 32, seed: 4 } });
    const testSplit = loadStereo({ kind: 'synthetic', split: 'test', limit: 2, synthetic: { height: 16, width: 32, seed: 4 } });
    assert.notEqual(stereoFingerprint(train), stereoFingerprint(testSplit));
    assert.deepEqual([train.n, train.height, train.width, train.name], [2, 16, 32, 'synthetic-stereo']);
    const half = loadStereo({ kind: 'synthetic', limit: 2, downscale: 2, synthetic: { height: 16, width: 32, seed: 4 } });
    assert.deepEqual([half.height, half.width], [8, 16]);
    assert.ok(half.maxDisparity <= train.maxDisparity / 2 + 1e-6 && half.maxDisparity > 0);
  });
});

describe('stereoBatch', () => {
  const ds: StereoDataset = generateSyntheticStereo({ n: 4, height: 24, width: 40, seed: 3, occludedNaN: true });
  const { height: H, width: W } = ds;
  const P = H * W;
  const window = (src: Float32Array, planeIndex: number, y0: number, x0: number, h: number, w: number): number[] => {
    const out: number[] = [];
    for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) out.push(src[planeIndex * P + (y0 + r) * W + x0 + q]!);
    return out;
  };

  test('strength 0 without a crop copies the stored pixels exactly and draws nothing', () => {
    const rng = new Rng(9);
    const before = rng.getState();
    const b = stereoBatch(ds, [2, 0, 2], {}, rng);
    assert.deepEqual(b.shape, [3, 6, H, W]);
    assert.deepEqual(rng.getState(), before);
    [2, 0, 2].forEach((i, k) => {
      for (let c = 0; c < 3; c++) {
        assert.deepEqual(b.x.subarray((k * 6 + c) * P, (k * 6 + c + 1) * P), ds.left.subarray((i * 3 + c) * P, (i * 3 + c + 1) * P));
        assert.deepEqual(b.x.subarray((k * 6 + 3 + c) * P, (k * 6 + 4 + c) * P), ds.right.subarray((i * 3 + c) * P, (i * 3 + c + 1) * P));
      }
      assert.deepEqual(b.y.subarray(k * P, (k + 1) * P), ds.disparity.subarray(i * P, (i + 1) * P)); // NaNs included
    });
    const c = stereoBatch(ds, [1], { crop: [10, 16] }, rng);
    assert.deepEqual([...c.y], window(ds.disparity, 1, 7, 12, 10, 16), 'strength 0 crops the centre');
  });

  test('strength > 0: the disparity target sits on the same random crop as both views; photometry is shared', () => {
    const h = 12;
    const w = 20;
    const s = 0.5;
    const rng = new Rng(21);
    // the first pair's crop is the first two draws (augment.ts draws the crop before the photometry)
    const peek = new Rng(rng.getState());
    const first = [peek.int(H - h + 1), peek.int(W - w + 1)] as const;
    const b = stereoBatch(ds, [0, 3], { crop: [h, w], augment: s }, rng);
    assert.deepEqual(b.shape, [2, 6, h, w]);
    [0, 3].forEach((i, k) => {
      const yk = [...b.y.subarray(k * h * w, (k + 1) * h * w)];
      if (k === 0) assert.deepEqual(yk.map(String), window(ds.disparity, i, first[0], first[1], h, w).map(String), 'target = disparity at the drawn crop');
      // in every case, the target equals the disparity at exactly the window where the left view correlates best
      let best = '';
      let bestCorr = -2;
      for (let yy = 0; yy <= H - h; yy++) {
        for (let xx = 0; xx <= W - w; xx++) {
          const a = [...b.x.subarray((k * 6) * h * w, (k * 6 + 1) * h * w)];
          const o = window(ds.left, i * 3, yy, xx, h, w);
          const corr = pearson(a, o);
          if (corr > bestCorr) {
            bestCorr = corr;
            best = `${yy},${xx}`;
          }
        }
      }
      assert.ok(bestCorr > 0.9, `augmented left still correlates with its source window (${bestCorr})`);
      const [by, bx] = best.split(',').map(Number) as [number, number];
      assert.deepEqual(yk.map(String), window(ds.disparity, i, by, bx, h, w).map(String), `pair ${i}: target on the images' window ${best}`);
      // both views went through the same colour change: matched pixels differ only by the small independent noise
      let n = 0;
      let maxDiff = 0;
      let changed = 0;
      for (let r = 0; r < h; r++) {
        for (let q = 0; q < w; q++) {
          const d = yk[r * w + q]!;
          if (Number.isNaN(d) || q - d < 0) continue;
          for (let c = 0; c < 3; c++) {
            const l = b.x[((k * 6 + c) * h + r) * w + q]!;
            const rr = b.x[((k * 6 + 3 + c) * h + r) * w + q - d]!;
            maxDiff = Math.max(maxDiff, Math.abs(l - rr));
            if (Math.abs(l - ds.left[(i * 3 + c) * P + (by + r) * W + bx + q]!) > 1e-3) changed++;
            n++;
          }
        }
      }
      assert.ok(n > 100, `matched samples ${n}`);
      assert.ok(maxDiff < 8 * 0.04 * s, `views differ only by noise: max |Δ| = ${maxDiff}`);
      assert.ok(changed > 0.5 * n, `augmentation changed the pixels (${changed} of ${n})`);
    });
  });

  test('deterministic given the rng; different rng state or strength → different batch; negative strength refused', () => {
    const a = stereoBatch(ds, [1, 2], { crop: [16, 16], augment: 1 }, new Rng(5));
    const b = stereoBatch(ds, [1, 2], { crop: [16, 16], augment: 1 }, new Rng(5));
    assert.deepEqual(a.x, b.x);
    assert.deepEqual(a.y.map((v) => (Number.isNaN(v) ? -1 : v)), b.y.map((v) => (Number.isNaN(v) ? -1 : v)));
    const c = stereoBatch(ds, [1, 2], { crop: [16, 16], augment: 1 }, new Rng(6));
    assert.notDeepEqual(c.x, a.x);
    // larger strength, larger average change of the full frame from the stored pixels
    const dev = (s: number): number => {
      let t = 0;
      for (let seed = 0; seed < 8; seed++) {
        const r = stereoBatch(ds, [0], { augment: s }, new Rng(seed));
        for (let p = 0; p < 3 * P; p++) t += Math.abs(r.x[p]! - ds.left[p]!);
      }
      return t;
    };
    const [d1, d2, d3] = [dev(0.25), dev(1), dev(2)];
    assert.ok(d1 < d2 && d2 < d3, `deviation grows with strength: ${d1} < ${d2} < ${d3}`);
    assert.throws(() => stereoBatch(ds, [0], { augment: -1 }, new Rng(0)), /strength/);
    assert.throws(() => stereoBatch(ds, [0], { crop: [H + 1, W] }, new Rng(0)), /does not fit/);
  });
});

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i]! - ma) * (b[i]! - mb);
    saa += (a[i]! - ma) ** 2;
    sbb += (b[i]! - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}
