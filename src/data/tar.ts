/**
 * A small streaming reader for ustar / GNU / pax tar archives, gzipped, enough to unpack the
 * CIFAR archives without an external tar. Regular files and directories are written; links,
 * devices and FIFOs are skipped; paths that are absolute or climb out with `..` are refused.
 * Each file is written to a temporary name and renamed when complete.
 */
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError } from '../errors.js';

const BLOCK = 512;

export interface TarEntry {
  path: string;
  size: number;
  type: 'file' | 'directory' | 'other';
}

/** Parses one 512-byte header; returns null for an all-zero block. */
export function parseTarHeader(h: Uint8Array, archive: string): { name: string; size: number; typeflag: string } | null {
  if (h.every((b) => b === 0)) return null;
  const stored = parseOctal(h.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
  if (stored !== sum) {
    throw new DataError(`${archive}: tar header checksum mismatch (stored ${stored}, computed ${sum}); the archive is corrupt or not a tar file`, 'delete the archive and download it again');
  }
  const name = cstr(h.subarray(0, 100));
  const magic = cstr(h.subarray(257, 263));
  const prefix = magic.startsWith('ustar') ? cstr(h.subarray(345, 500)) : '';
  const size = parseSize(h.subarray(124, 136));
  const typeflag = h[156] === 0 ? '0' : String.fromCharCode(h[156]!);
  return { name: prefix ? `${prefix}/${name}` : name, size, typeflag };
}

function cstr(b: Uint8Array): string {
  const z = b.indexOf(0);
  return Buffer.from(b.subarray(0, z < 0 ? b.length : z)).toString('utf8');
}

function parseOctal(b: Uint8Array): number {
  const s = cstr(b).trim();
  return s === '' ? 0 : Number.parseInt(s, 8);
}

function parseSize(b: Uint8Array): number {
  if (b[0]! & 0x80) {
    // GNU base-256 for large sizes
    let v = b[0]! & 0x7f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i]!;
    return v;
  }
  return parseOctal(b);
}

function safeJoin(dest: string, path: string, archive: string): string {
  const norm = normalize(path);
  if (path.startsWith('/') || norm.split(sep).includes('..')) {
    throw new DataError(`${archive}: refusing to extract entry "${path}" outside the destination folder`, 'the archive is not the official one; delete it and download again');
  }
  return join(dest, norm);
}

/** Streaming tar parser: feed it chunks; it writes entries below `dest`. */
class TarExtractor {
  private pending: Buffer = Buffer.alloc(0);
  private fd: number | undefined;
  private tmp = '';
  private target = '';
  private remaining = 0;
  private skipPad = 0;
  private collect: { kind: 'L' | 'x'; bytes: Buffer[] } | undefined;
  private longName: string | undefined;
  private paxPath: string | undefined;
  private ended = false;
  readonly entries: TarEntry[] = [];

  constructor(private readonly dest: string, private readonly archive: string) {}

  push(chunk: Buffer): void {
    const buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    let off = 0;
    while (off < buf.length && !this.ended) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, buf.length - off);
        const part = buf.subarray(off, off + take);
        if (this.fd !== undefined) {
          let w = 0;
          while (w < part.length) w += writeSync(this.fd, part, w, part.length - w);
        } else if (this.collect) this.collect.bytes.push(Buffer.from(part));
        this.remaining -= take;
        off += take;
        if (this.remaining === 0) this.finishEntry();
        continue;
      }
      if (this.skipPad > 0) {
        const take = Math.min(this.skipPad, buf.length - off);
        this.skipPad -= take;
        off += take;
        continue;
      }
      if (buf.length - off < BLOCK) break;
      this.header(buf.subarray(off, off + BLOCK));
      off += BLOCK;
    }
    this.pending = Buffer.from(buf.subarray(off));
  }

  private header(h: Uint8Array): void {
    const hd = parseTarHeader(h, this.archive);
    if (!hd) {
      this.ended = true; // end-of-archive marker
      return;
    }
    const path = this.paxPath ?? this.longName ?? hd.name;
    this.skipPad = (BLOCK - (hd.size % BLOCK)) % BLOCK;
    this.remaining = hd.size;
    if (hd.typeflag === 'L' || hd.typeflag === 'x') {
      this.collect = { kind: hd.typeflag, bytes: [] };
    } else {
      this.paxPath = undefined;
      this.longName = undefined;
      if (hd.typeflag === '0' || hd.typeflag === '7') {
        this.target = safeJoin(this.dest, path, this.archive);
        mkdirSync(dirname(this.target), { recursive: true });
        this.tmp = `${this.target}.part-${process.pid}`;
        this.fd = openSync(this.tmp, 'w');
        this.entries.push({ path, size: hd.size, type: 'file' });
      } else if (hd.typeflag === '5') {
        mkdirSync(safeJoin(this.dest, path, this.archive), { recursive: true });
        this.entries.push({ path, size: 0, type: 'directory' });
      } else {
        this.entries.push({ path, size: hd.size, type: 'other' }); // links, devices, global pax: skipped
      }
    }
    if (this.remaining === 0) this.finishEntry();
  }

  private finishEntry(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.target);
    } else if (this.collect) {
      const data = Buffer.concat(this.collect.bytes).toString('utf8');
      if (this.collect.kind === 'L') this.longName = data.replace(/\0+$/, '');
      else this.paxPath = parsePaxPath(data);
      this.collect = undefined;
    }
  }

  /** Called at the end of input: anything unfinished means a truncated archive. */
  finish(): void {
    if (this.remaining > 0 || (!this.ended && this.pending.length > 0)) {
      this.abort();
      throw new DataError(`${this.archive}: the tar archive ends in the middle of an entry (truncated)`, 'delete the archive and download it again');
    }
  }

  abort(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
      rmSync(this.tmp, { force: true });
    }
  }
}

function parsePaxPath(data: string): string | undefined {
  let path: string | undefined;
  let i = 0;
  while (i < data.length) {
    const sp = data.indexOf(' ', i);
    if (sp < 0) break;
    const len = Number.parseInt(data.slice(i, sp), 10);
    if (!(len > 0)) break;
    const rec = data.slice(sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === 'path') path = rec.slice(eq + 1);
    i += len;
  }
  return path;
}

/** Extracts a .tar.gz archive into `dest`; returns the entries seen. */
export async function extractTarGz(archive: string, dest: string): Promise<TarEntry[]> {
  mkdirSync(dest, { recursive: true });
  const ex = new TarExtractor(dest, archive);
  // pipeline() forwards a read error to the gunzip stream, ending the loop below
  const stream = pipeline(createReadStream(archive), createGunzip(), () => {});
  try {
    for await (const chunk of stream) ex.push(chunk as Buffer);
  } catch (e) {
    ex.abort();
    if (e instanceof DataError) throw e;
    throw new DataError(`${archive}: could not be decompressed (${(e as Error).message}); the archive is truncated or corrupt`, 'delete the archive and download it again');
  }
  ex.finish();
  return ex.entries;
}
