/**
 * `--download`: fetch a dataset's official files over HTTP(S), verify their MD5 checksums,
 * store them atomically (temporary name, fsync, rename) and unpack .tar.gz archives.
 * A checksum mismatch deletes the partial download and throws a DataError.
 * A file already present with the right checksum is not fetched again.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DataError } from '../errors.js';
import type { DatasetName } from './dataset.js';
import { SOURCES, type DatasetSource } from './sources.js';
import { extractTarGz } from './tar.js';

export interface DownloadOptions {
  /** Replaces the dataset's official base URL (files are fetched from `${baseUrl}/${file}`). */
  baseUrl?: string;
  /** Replaces expected MD5s by file name (tests, mirrors with re-packed files). */
  checksums?: Record<string, string>;
  /** Called as bytes arrive; `total` is undefined when the server sends no length. */
  onProgress?: (file: string, received: number, total: number | undefined) => void;
  /** Fetch even if a file with the right checksum is already there. */
  force?: boolean;
}

export interface DownloadResult {
  /** Folder to pass to the dataset reader. */
  dir: string;
  /** Files fetched (full paths); empty when everything was already present. */
  fetched: string[];
}

function sourceOf(name: DatasetName): DatasetSource {
  if (name === 'synthetic') throw new DataError('the synthetic dataset is generated, there is nothing to download', 'drop --download for --dataset synthetic');
  const s = SOURCES[name];
  if (!s) throw new DataError(`unknown dataset "${name}"`, `use one of ${Object.keys(SOURCES).join(', ')}`);
  return s;
}

export async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

function exists(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Streams `url` to `dest` atomically, checking the MD5 before the rename (also used by ptb.ts). */
export async function fetchVerified(url: string, dest: string, md5: string, onProgress?: DownloadOptions['onProgress']): Promise<void> {
  const fix = `check the network, or download ${url} by hand into ${dest} and pass --data-dir`;
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow' });
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new DataError(`could not fetch ${url}: ${(e as Error).message}${cause ? ` (${cause})` : ''}`, fix);
  }
  if (!res.ok || !res.body) throw new DataError(`could not fetch ${url}: HTTP ${res.status} ${res.statusText}`, fix);
  const lenHeader = res.headers.get('content-length');
  const total = lenHeader ? Number.parseInt(lenHeader, 10) : undefined;
  const tmp = `${dest}.part-${process.pid}-${Date.now()}`;
  const hash = createHash('md5');
  const fd = openSync(tmp, 'w');
  let received = 0;
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      hash.update(chunk);
      let w = 0;
      while (w < chunk.length) w += writeSync(fd, chunk, w, chunk.length - w);
      received += chunk.length;
      onProgress?.(dest, received, total);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw new DataError(`download of ${url} failed after ${received} bytes: ${(e as Error).message}; the partial file was deleted`, fix);
  }
  closeSync(fd);
  const got = hash.digest('hex');
  if (got !== md5.toLowerCase()) {
    rmSync(tmp, { force: true });
    throw new DataError(
      `checksum mismatch for ${url}: MD5 ${got}, expected ${md5} (${received} bytes received${total !== undefined ? ` of ${total}` : ''}); ` +
        `the partial download was deleted and nothing was written to ${dest}`,
      'try --download again; if it persists the download was cut or altered on the way (proxy?), so fetch the file by hand and pass --data-dir',
    );
  }
  renameSync(tmp, dest);
}

/**
 * Downloads `name` into `dir` (CIFAR: archive in `dir`, unpacked to `dir/cifar-10-batches-bin`
 * or `dir/cifar-100-binary`; SVHN: `dir/svhn/`; Fashion-MNIST: `dir/fashion-mnist/`).
 */
export async function downloadDataset(name: DatasetName, dir: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const source = sourceOf(name);
  const root = resolve(dir);
  const target = source.downloadSubdir ? join(root, source.downloadSubdir) : root;
  mkdirSync(target, { recursive: true });
  const base = (opts.baseUrl ?? source.baseUrl).replace(/\/+$/, '');
  const fetched: string[] = [];
  for (const remote of source.remote) {
    const md5 = opts.checksums?.[remote.file] ?? remote.md5;
    const dest = join(target, remote.file);
    const have = !opts.force && exists(dest) && (await md5File(dest)) === md5.toLowerCase();
    if (!have) {
      await fetchVerified(`${base}/${remote.file}`, dest, md5, opts.onProgress);
      fetched.push(dest);
    }
    const unpacked = () => [...source.files.train, ...source.files.test].every((alts) => exists(join(target, source.subdir, alts[0]!)));
    if (remote.extract && (!have || !unpacked())) {
      await extractTarGz(dest, target);
    }
  }
  return { dir: root, fetched };
}
