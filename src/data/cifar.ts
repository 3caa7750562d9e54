/**
 * CIFAR-10 / CIFAR-100, binary version. A record is label byte(s) followed by 3072 pixel
 * bytes: the red, green and blue 32×32 planes, each row-major — already CHW order.
 */
import { readFileSync } from 'node:fs';
import { NORMALISATION, type ImageDataset, type Split } from './dataset.js';
import { SOURCES, malformedFileError, resolveFiles, type DatasetSource } from './sources.js';

const PIXELS = 3 * 32 * 32;

interface CifarLayout {
  source: DatasetSource;
  /** Label bytes before the pixels. */
  labelBytes: number;
  /** Which label byte is the class (CIFAR-100: 1 = fine label). */
  labelIndex: number;
  numClasses: number;
}

function readCifar(layout: CifarLayout, dir: string, split: Split): ImageDataset {
  const files = resolveFiles(layout.source, dir, split);
  const record = layout.labelBytes + PIXELS;
  const buffers = files.map((f) => {
    const buf = readFileSync(f);
    if (buf.length === 0 || buf.length % record !== 0) {
      throw malformedFileError(
        layout.source,
        f,
        `${buf.length} bytes is not a positive multiple of the ${record}-byte ${layout.source.title} record ` +
          `(${layout.labelBytes} label byte${layout.labelBytes > 1 ? 's' : ''} + ${PIXELS} pixel bytes); the file is truncated or not the binary version`,
      );
    }
    return { file: f, buf };
  });
  const n = buffers.reduce((s, b) => s + b.buf.length / record, 0);
  const images = new Uint8Array(n * PIXELS);
  const labels = new Int32Array(n);
  let i = 0;
  for (const { file, buf } of buffers) {
    const count = buf.length / record;
    for (let r = 0; r < count; r++, i++) {
      const off = r * record;
      const y = buf[off + layout.labelIndex]!;
      if (y >= layout.numClasses) {
        throw malformedFileError(layout.source, file, `record ${r} has label ${y}, outside 0..${layout.numClasses - 1}; the file is corrupt or of another dataset`);
      }
      labels[i] = y;
      images.set(buf.subarray(off + layout.labelBytes, off + record), i * PIXELS);
    }
  }
  const norm = NORMALISATION[layout.source.name];
  return {
    name: layout.source.name,
    split,
    images,
    labels,
    n,
    channels: 3,
    height: 32,
    width: 32,
    numClasses: layout.numClasses,
    mean: [...norm.mean],
    std: [...norm.std],
  };
}

/** CIFAR-10 binary: `dir` is `cifar-10-batches-bin/` or its parent. Train = data_batch_1..5, test = test_batch. */
export function readCifar10(dir: string, split: Split): ImageDataset {
  return readCifar({ source: SOURCES.cifar10, labelBytes: 1, labelIndex: 0, numClasses: 10 }, dir, split);
}

/** CIFAR-100 binary: `dir` is `cifar-100-binary/` or its parent. Uses the fine labels (100 classes). */
export function readCifar100(dir: string, split: Split): ImageDataset {
  return readCifar({ source: SOURCES.cifar100, labelBytes: 2, labelIndex: 1, numClasses: 100 }, dir, split);
}
