/**
 * The stereo readers on small files written in the exact formats: PFM (both byte orders, rows
 * bottom to top), PNG (every filter type, 8/16-bit, grey/grey+alpha/RGB/RGBA, a 1-bit mask, and
 * a PNG from an independent encoder: resvg), the Sintel disparity encoding, tiny FlyingThings3D-
 * and Sintel-layout trees through loadStereo, and the missing-data errors.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { deflateSync, inflateSync } from 'node:zlib';
import { Resvg } from '@resvg/resvg-js';
import { DataError } from '../../src/errors.js';
import {
  crc32,
  decodePfm,
  decodePng,
  decodeSintelDisparity,
  encodePfm,
  encodePng,
  loadStereo,
  readPfm,
  stereoFingerprint,
  writePfm,
} from '../../src/data/index.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('disparity-formats');
after(tmp.cleanup);

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

function put(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

describe('PFM', () => {
  test('a hand-written big-endian Pf file: rows stored bottom to top come back top to bottom', () => {
    // 3 wide, 2 high; stored rows: bottom row [1, 2, 3] first, then top row [4, 5, 6]
    const header = Buffer.from('Pf\n3 2\n1.0\n', 'latin1');
    const body = Buffer.alloc(24);
    [1, 2, 3, 4, 5, 6].forEach((v, i) => body.writeFloatBE(v, i * 4));
    const img = decodePfm(Buffer.concat([header, body]));
    assert.deepEqual([img.width, img.height, img.channels, img.littleEndian, img.scale], [3, 2, 1, false, 1]);
    assert.deepEqual([...img.data], [4, 5, 6, 1, 2, 3]);
  });

  test('a hand-written little-endian PF (colour) file with "-1" scale', () => {
    const header = Buffer.from('PF\n1 2\n-1\n', 'latin1');
    const body = Buffer.alloc(24);
    [0.5, 1.5, 2.5, -7, 8.25, 9].forEach((v, i) => body.writeFloatLE(v, i * 4)); // bottom pixel rgb, then top pixel rgb
    const img = decodePfm(Buffer.concat([header, body]));
    assert.deepEqual([img.width, img.height, img.channels, img.littleEndian], [1, 2, 3, true]);
    assert.deepEqual([...img.data], [-7, 8.25, 9, 0.5, 1.5, 2.5]);
  });

  test('writePfm/readPfm round trip in both byte orders, grey and colour; the writer stores the bottom row first', () => {
    for (const littleEndian of [true, false]) {
      for (const channels of [1, 3] as const) {
        const width = 5;
        const height = 4;
        const data = Float32Array.from({ length: width * height * channels }, (_, i) => (i * 7.25 - 31) / 3);
        const path = join(tmp.path, `rt-${littleEndian}-${channels}.pfm`);
        writePfm(path, { width, height, channels, data }, { littleEndian });
        const back = readPfm(path);
        assert.deepEqual([back.width, back.height, back.channels, back.littleEndian], [width, height, channels, littleEndian]);
        assert.deepEqual([...back.data], [...data]);
        const raw = encodePfm({ width, height, channels, data }, { littleEndian });
        const headerLen = Buffer.from(`${channels === 3 ? 'PF' : 'Pf'}\n${width} ${height}\n${littleEndian ? '-1' : '1'}\n`).length;
        assert.equal(raw.subarray(0, 2).toString(), channels === 3 ? 'PF' : 'Pf');
        const first = littleEndian ? raw.readFloatLE(headerLen) : raw.readFloatBE(headerLen);
        assert.equal(first, data[(height - 1) * width * channels], 'first stored sample is the bottom row');
      }
    }
  });

  test('truncated data and a bad magic are DataErrors naming the file', () => {
    const good = encodePfm({ width: 4, height: 4, channels: 1, data: new Float32Array(16) });
    const path = join(tmp.path, 'short.pfm');
    writeFileSync(path, good.subarray(0, good.length - 3));
    assertDataError(() => readPfm(path), path, 'truncated');
    assertDataError(() => decodePfm(Buffer.from('P6\n1 1\n255\n\0\0\0')), 'neither PF nor Pf');
  });
});

/** The inflated IDAT stream of a PNG (filter bytes and filtered scanlines). */
function idatStream(png: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (let off = 8; off < png.length; ) {
    const len = png.readUInt32BE(off);
    if (png.toString('latin1', off + 4, off + 8) === 'IDAT') parts.push(png.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  return inflateSync(Buffer.concat(parts));
}

describe('PNG decoder', () => {
  const sample = (i: number, bitDepth: number): number => (bitDepth === 16 ? (i * 40503 + 12345) & 0xffff : (i * 151 + 7) & 0xff);

  test('every filter type (and rows cycling through all five), 8- and 16-bit, 1–4 channels', () => {
    for (const bitDepth of [8, 16] as const) {
      for (const channels of [1, 2, 3, 4] as const) {
        const width = 7;
        const height = 6;
        const data = Array.from({ length: width * height * channels }, (_, i) => sample(i, bitDepth));
        for (const filter of [0, 1, 2, 3, 4, (r: number) => r % 5] as const) {
          const png = encodePng({ width, height, channels, bitDepth, data }, { filter });
          // the scanlines really carry the requested filter bytes
          const raw = idatStream(png);
          const stride = width * channels * (bitDepth / 8);
          for (let r = 0; r < height; r++) assert.equal(raw[r * (stride + 1)], typeof filter === 'number' ? filter : r % 5);
          const img = decodePng(png);
          assert.deepEqual([img.width, img.height, img.channels, img.bitDepth], [width, height, channels, bitDepth]);
          assert.ok(bitDepth === 16 ? img.data instanceof Uint16Array : img.data instanceof Uint8Array);
          assert.deepEqual([...img.data], data, `bitDepth ${bitDepth}, channels ${channels}, filter ${String(filter)}`);
        }
      }
    }
  });

  test('a hand-assembled 1-bit grey image (a binary mask) and a 4-bit palette image', () => {
    const chunk = (type: string, body: Uint8Array): Buffer => {
      const b = Buffer.alloc(12 + body.length);
      b.writeUInt32BE(body.length, 0);
      b.write(type, 4, 'latin1');
      Buffer.from(body).copy(b, 8);
      b.writeUInt32BE(crc32(b.subarray(4, 8 + body.length)), 8 + body.length);
      return b;
    };
    const ihdr = (w: number, h: number, depth: number, colour: number): Buffer => {
      const b = Buffer.alloc(13);
      b.writeUInt32BE(w, 0);
      b.writeUInt32BE(h, 4);
      b[8] = depth;
      b[9] = colour;
      return chunk('IHDR', b);
    };
    const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    // 10×2, 1 bit: row 0 = 1011001110 (bytes 0b10110011, 0b10000000), row 1 = all zero except last pixel; filter 0 and 2 (Up)
    const raw1 = Uint8Array.of(0, 0b10110011, 0b10000000, 2, 0b10110011, 0b11000000); // Up: row1 = row0 + delta
    const png1 = Buffer.concat([sig, ihdr(10, 2, 1, 0), chunk('IDAT', deflateSync(raw1)), chunk('IEND', new Uint8Array(0))]);
    const m = decodePng(png1);
    assert.deepEqual([m.width, m.height, m.channels, m.bitDepth], [10, 2, 1, 1]);
    // row1 bytes after Up: (0b10110011 + 0b10110011) & 255 = 0b01100110, (0b10000000 + 0b11000000) & 255 = 0b01000000
    assert.deepEqual([...m.data], [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
    // 3×1, 4-bit palette indices 2, 0, 1
    const plte = chunk('PLTE', Uint8Array.of(10, 20, 30, 40, 50, 60, 70, 80, 90));
    const raw2 = Uint8Array.of(0, 0x20, 0x10);
    const png2 = Buffer.concat([sig, ihdr(3, 1, 4, 3), plte, chunk('IDAT', deflateSync(raw2)), chunk('IEND', new Uint8Array(0))]);
    const p = decodePng(png2);
    assert.deepEqual([p.channels, p.bitDepth, ...p.data], [3, 8, 70, 80, 90, 10, 20, 30, 40, 50, 60]);
  });

  test('a PNG from an independent encoder (resvg) decodes to the colours it drew', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="6" shape-rendering="crispEdges">' +
      '<rect x="0" y="0" width="4" height="3" fill="#ff0000"/><rect x="4" y="0" width="4" height="3" fill="#00ff80"/>' +
      '<rect x="0" y="3" width="8" height="3" fill="#123456"/></svg>';
    const png = new Resvg(svg, { background: 'white' }).render().asPng();
    const img = decodePng(png);
    assert.deepEqual([img.width, img.height], [8, 6]);
    const at = (x: number, y: number): number[] => [...img.data.subarray((y * 8 + x) * img.channels, (y * 8 + x) * img.channels + 3)];
    assert.deepEqual(at(1, 1), [255, 0, 0]);
    assert.deepEqual(at(6, 2), [0, 255, 128]);
    assert.deepEqual(at(7, 5), [0x12, 0x34, 0x56]);
  });

  test('a corrupt CRC, an interlaced file and a non-PNG are DataErrors', () => {
    const png = encodePng({ width: 2, height: 2, channels: 1, bitDepth: 8, data: [1, 2, 3, 4] });
    const bad = Buffer.from(png);
    bad[20] = bad[20]! ^ 1; // inside IHDR
    assertDataError(() => decodePng(bad, 'x.png'), 'x.png', 'CRC');
    const inter = Buffer.from(png);
    inter[28] = 1; // interlace method byte of IHDR
    inter.writeUInt32BE(crc32(inter.subarray(12, 29)), 29);
    assertDataError(() => decodePng(inter, 'i.png'), 'interlaced');
    assertDataError(() => decodePng(Buffer.from('GIF89a........'), 'g.png'), 'no PNG signature');
  });
});

describe('Sintel disparity encoding', () => {
  test('disparity = R·4 + G/2^6 + B/2^14 on hand-computed pixels', () => {
    const png = encodePng({ width: 3, height: 1, channels: 3, bitDepth: 8, data: [3, 100, 128, 0, 0, 0, 255, 255, 255] });
    const d = decodeSintelDisparity(decodePng(png));
    // 3·4 + 100/64 + 128/16384 = 12 + 1.5625 + 0.0078125
    assert.equal(d[0], 13.5703125);
    assert.equal(d[1], 0);
    assert.equal(d[2], Math.fround(1020 + 255 / 64 + 255 / 16384));
    assertDataError(() => decodeSintelDisparity(decodePng(encodePng({ width: 1, height: 1, channels: 1, bitDepth: 8, data: [1] })), 'g.png'), 'g.png', '8-bit RGB');
  });
});

// --- tiny dataset trees --------------------------------------------------------------------------

/** A deterministic RGB image (interleaved 8-bit) that differs per frame, view, channel and pixel. */
function rgb(frame: number, view: number, h: number, w: number): number[] {
  const out: number[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out.push((frame * 53 + view * 101 + c * 17 + y * 9 + x * 5) & 255);
  return out;
}
const dispValue = (frame: number, y: number, x: number): number => 1.25 * frame + 0.5 * y + 0.125 * x + 2;

describe('FlyingThings3D layout', () => {
  const root = join(tmp.path, 'ft3d');
  const H = 4;
  const W = 6;
  // frames in sorted order: TRAIN/A/0000/0006, TRAIN/A/0000/0007, TRAIN/B/0001/0010; TEST/A/0002/0006
  const frames: [string, string, string, string, number][] = [
    ['TRAIN', 'A', '0000', '0006', 0],
    ['TRAIN', 'A', '0000', '0007', 1],
    ['TRAIN', 'B', '0001', '0010', 2],
    ['TEST', 'A', '0002', '0006', 3],
  ];
  for (const [S, L, seq, f, k] of frames) {
    for (const [view, side] of [[0, 'left'], [1, 'right']] as const) {
      put(join(root, 'FlyingThings3D', 'frames_cleanpass', S, L, seq, side, `${f}.png`), encodePng({ width: W, height: H, channels: 3, bitDepth: 8, data: rgb(k, view, H, W) }, { filter: (r) => (r + k) % 5 }));
    }
    const d = Float32Array.from({ length: H * W }, (_, i) => dispValue(k, Math.floor(i / W), i % W));
    put(join(root, 'FlyingThings3D', 'disparity', S, L, seq, 'left', `${f}.pfm`), encodePfm({ width: W, height: H, channels: 1, data: d }, { littleEndian: k % 2 === 0 }));
  }

  test('reads the TRAIN split from the parent folder with exact pixels and top-to-bottom disparity', () => {
    const ds = loadStereo({ kind: 'flyingthings3d', root, split: 'train' });
    assert.deepEqual([ds.name, ds.n, ds.height, ds.width], ['flyingthings3d', 3, H, W]);
    const P = H * W;
    for (const [i, k] of [[0, 0], [1, 1], [2, 2]]) {
      const L = rgb(k!, 0, H, W);
      const R = rgb(k!, 1, H, W);
      for (const [y, x, c] of [[0, 0, 0], [3, 5, 2], [1, 4, 1], [2, 0, 2]] as const) {
        assert.equal(ds.left[(i! * 3 + c) * P + y * W + x], Math.fround(L[(y * W + x) * 3 + c]! / 255));
        assert.equal(ds.right[(i! * 3 + c) * P + y * W + x], Math.fround(R[(y * W + x) * 3 + c]! / 255));
        assert.equal(ds.disparity[i! * P + y * W + x], dispValue(k!, y, x));
      }
    }
    assert.equal(ds.maxDisparity, dispValue(2, 3, 5));
    assert.ok(ds.source.includes(root));
  });

  test('the TEST split, a list file (one path or three per line), limit, downscale and crop', () => {
    const test1 = loadStereo({ kind: 'flyingthings3d', root, split: 'test' });
    assert.equal(test1.n, 1);
    assert.equal(test1.disparity[0], dispValue(3, 0, 0));
    const folder = join(root, 'FlyingThings3D');
    put(join(folder, 'mylist.txt'), '# chosen frames\nTRAIN/B/0001/left/0010.png\n\nframes_cleanpass/TRAIN/A/0000/right/0007.png frames_cleanpass/TRAIN/A/0000/left/0007.png disparity/TRAIN/A/0000/left/0007.pfm\n');
    const listed = loadStereo({ kind: 'flyingthings3d', root, list: 'mylist.txt' });
    assert.equal(listed.n, 2);
    assert.equal(listed.disparity[0], dispValue(2, 0, 0));
    // the second line swapped the views on purpose: its "left" is frame 1's right image
    assert.equal(listed.left[3 * H * W], Math.fround(rgb(1, 1, H, W)[0]! / 255));
    const lim = loadStereo({ kind: 'flyingthings3d', root, limit: 2 });
    assert.deepEqual([lim.n, lim.disparity[0], lim.disparity[H * W]], [2, dispValue(0, 0, 0), dispValue(1, 0, 0)]); // floor(j·3/2) = 0, 1
    const small = loadStereo({ kind: 'flyingthings3d', root, downscale: 2, crop: [2, 2] });
    // downscaled to 2×3, centre crop 2×2 starts at column floor((3−2)/2) = 0
    assert.deepEqual([small.height, small.width], [2, 2]);
    const blockMean = (k: number, by: number, bx: number): number => (dispValue(k, 2 * by, 2 * bx) + dispValue(k, 2 * by, 2 * bx + 1) + dispValue(k, 2 * by + 1, 2 * bx) + dispValue(k, 2 * by + 1, 2 * bx + 1)) / 4;
    assert.ok(Math.abs(small.disparity[3]! - blockMean(0, 1, 1) / 2) < 1e-6, 'disparity is block-averaged and divided by the factor');
    const L = rgb(0, 0, H, W);
    const m = (L[(2 * W + 2) * 3]! + L[(2 * W + 3) * 3]! + L[(3 * W + 2) * 3]! + L[(3 * W + 3) * 3]!) / 4 / 255;
    assert.ok(Math.abs(small.left[3]! - m) < 1e-6, 'image is block-averaged');
    assert.notEqual(stereoFingerprint(small), stereoFingerprint(lim));
  });

  test('missing data: the error names the expected files and the Freiburg page', () => {
    const nowhere = join(tmp.path, 'no-ft3d');
    const err = assertDataError(
      () => loadStereo({ kind: 'flyingthings3d', root: nowhere }),
      join(nowhere, 'frames_cleanpass', 'TRAIN'),
      '<left|right>/<frame>.png',
      join(nowhere, 'disparity', 'TRAIN'),
      'left/<frame>.pfm',
      'lmb.informatik.uni-freiburg.de/resources/datasets/SceneFlowDatasets',
      'does not exist',
    );
    assert.equal(err.exitCode, 3);
    // one missing file inside an otherwise complete tree is named
    const broken = join(tmp.path, 'ft3d-broken');
    put(join(broken, 'frames_cleanpass', 'TRAIN', 'A', '0000', 'left', '0006.png'), encodePng({ width: 1, height: 1, channels: 3, bitDepth: 8, data: [1, 2, 3] }));
    put(join(broken, 'disparity', 'TRAIN', 'A', '0000', 'left', '0006.pfm'), encodePfm({ width: 1, height: 1, channels: 1, data: [1] }));
    assertDataError(() => loadStereo({ kind: 'flyingthings3d', root: broken }), `Missing: ${join(broken, 'frames_cleanpass', 'TRAIN', 'A', '0000', 'right', '0006.png')}`);
  });
});

describe('MPI Sintel stereo layout', () => {
  const root = join(tmp.path, 'sintel');
  const tr = join(root, 'MPI-Sintel-stereo-training-20150305', 'training');
  const H = 3;
  const W = 4;
  // scenes alley_1 (frames 1, 2) and bamboo_1 (frame 1); disparity pixel (y, x) encodes R = k + y, G = 16·x, B = 64
  const frames: [string, string, number][] = [
    ['alley_1', 'frame_0001.png', 0],
    ['alley_1', 'frame_0002.png', 1],
    ['bamboo_1', 'frame_0001.png', 2],
  ];
  for (const [scene, f, k] of frames) {
    for (const pass of ['clean', 'final']) {
      put(join(tr, `${pass}_left`, scene, f), encodePng({ width: W, height: H, channels: 3, bitDepth: 8, data: rgb(k + (pass === 'final' ? 10 : 0), 0, H, W) }));
      put(join(tr, `${pass}_right`, scene, f), encodePng({ width: W, height: H, channels: 3, bitDepth: 8, data: rgb(k, 1, H, W) }));
    }
    const enc: number[] = [];
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) enc.push(k + y, 16 * x, 64);
    put(join(tr, 'disparities', scene, f), encodePng({ width: W, height: H, channels: 3, bitDepth: 8, data: enc }, { filter: 4 }));
    // out-of-frame mask: the last column is not visible in the right view
    put(join(tr, 'outofframe', scene, f), encodePng({ width: W, height: H, channels: 1, bitDepth: 8, data: Array.from({ length: H * W }, (_, i) => (i % W === W - 1 ? 1 : 0)) }));
  }
  const sintelD = (k: number, y: number, x: number): number => (k + y) * 4 + (16 * x) / 64 + 64 / 16384;

  test('reads scenes in order with the encoded disparity; out-of-frame pixels are NaN unless asked otherwise', () => {
    const ds = loadStereo({ kind: 'sintel', root });
    assert.deepEqual([ds.name, ds.n, ds.height, ds.width], ['sintel', 3, H, W]);
    const P = H * W;
    for (const k of [0, 1, 2]) {
      assert.equal(ds.disparity[k * P + 1 * W + 2], sintelD(k, 1, 2));
      assert.ok(Number.isNaN(ds.disparity[k * P + 2 * W + (W - 1)]!));
      assert.equal(ds.left[(k * 3 + 1) * P + 2 * W + 1], Math.fround(rgb(k, 0, H, W)[(2 * W + 1) * 3 + 1]! / 255));
    }
    assert.equal(ds.maxDisparity, sintelD(2, 2, W - 2));
    const all = loadStereo({ kind: 'sintel', root, maskOutOfFrame: false, pass: 'final' });
    assert.equal(all.disparity[2 * W + (W - 1)], sintelD(0, 2, W - 1));
    assert.equal(all.left[0], Math.fround(rgb(10, 0, H, W)[0]! / 255), 'final pass images');
  });

  test('missing data: the error names clean_left, clean_right, disparities and sintel.is.tue.mpg.de', () => {
    const nowhere = join(tmp.path, 'no-sintel');
    assertDataError(
      () => loadStereo({ kind: 'sintel', root: nowhere }),
      join(nowhere, 'training', 'clean_left'),
      join(nowhere, 'training', 'clean_right'),
      join(nowhere, 'training', 'disparities'),
      'frame_XXXX.png',
      'sintel.is.tue.mpg.de/stereo',
    );
  });
});
