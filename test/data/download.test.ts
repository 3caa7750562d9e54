import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { DataError } from '../../src/errors.js';
import { downloadDataset, extractTarGz, loadDataset, loadDatasetSync } from '../../src/data/index.js';
import { cifarRecords, pixel, svhnMat, tar } from './helpers.js';
import { tempDir } from '../helpers/tmp.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

// A CIFAR-10 archive in the official layout: 5 train batches of 2 records, a test batch of 3.
const cifarTar = tar([
  { path: 'cifar-10-batches-bin/', dir: true },
  { path: 'cifar-10-batches-bin/batches.meta.txt', data: new TextEncoder().encode('airplane\nautomobile\n') },
  ...[1, 2, 3, 4, 5].map((k) => ({ path: `cifar-10-batches-bin/data_batch_${k}.bin`, data: cifarRecords([[k], [k + 1]], 2 * (k - 1)) })),
  { path: 'cifar-10-batches-bin/test_batch.bin', data: cifarRecords([[0], [4], [8]]) },
]);
const cifarGz = gzipSync(cifarTar);
const svhnTest = svhnMat([2, 10], { compress: true, le: true });
const svhnTrain = svhnMat([1, 1, 7], { compress: true, le: true });

const files: Record<string, Uint8Array> = {
  '/cifar-10-binary.tar.gz': cifarGz,
  '/test_32x32.mat': svhnTest,
  '/train_32x32.mat': svhnTrain,
};
const requests: string[] = [];
let server: Server;
let base = '';
const tmp = tempDir('download');

before(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  tmp.cleanup();
});

describe('downloadDataset', () => {
  test('fetches, verifies and unpacks the CIFAR-10 archive; a second call fetches nothing', async () => {
    const dir = join(tmp.path, 'ok');
    const progress: number[] = [];
    const res = await downloadDataset('cifar10', dir, {
      baseUrl: base,
      checksums: { 'cifar-10-binary.tar.gz': md5(cifarGz) },
      onProgress: (_f, got) => progress.push(got),
    });
    assert.deepEqual(res.fetched, [join(dir, 'cifar-10-binary.tar.gz')]);
    assert.equal(progress.at(-1), cifarGz.length);
    const train = loadDatasetSync('cifar10', { split: 'train', dataDir: dir });
    assert.equal(train.n, 10);
    assert.deepEqual([...train.labels], [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
    assert.equal(train.images[((7 * 3 + 2) * 32 + 9) * 32 + 30], pixel(7, 2, 9, 30));
    assert.equal(loadDatasetSync('cifar10', { split: 'test', dataDir: dir }).n, 3);
    assert.ok(!readdirSync(dir).some((f) => f.includes('.part')), 'no temporary files left');
    const n = requests.length;
    const again = await downloadDataset('cifar10', dir, { baseUrl: base, checksums: { 'cifar-10-binary.tar.gz': md5(cifarGz) } });
    assert.deepEqual(again.fetched, []);
    assert.equal(requests.length, n, 'no request when the archive is present and verified');
  });

  test('a checksum mismatch deletes the partial download and throws DataError', async () => {
    const dir = join(tmp.path, 'badsum');
    await assert.rejects(
      downloadDataset('cifar10', dir, { baseUrl: base, checksums: { 'cifar-10-binary.tar.gz': '0'.repeat(32) } }),
      (e: unknown) => e instanceof DataError && e.message.includes('checksum mismatch') && e.message.includes(md5(cifarGz)) && e.message.includes('deleted'),
    );
    assert.deepEqual(readdirSync(dir), [], 'nothing written');
  });

  test('the official checksum table applies when none is overridden', async () => {
    const dir = join(tmp.path, 'official');
    await assert.rejects(downloadDataset('cifar10', dir, { baseUrl: base }), (e: unknown) => e instanceof DataError && e.message.includes('c32a1d4ab5d03f1284b67883e8d87530'));
    assert.equal(existsSync(join(dir, 'cifar-10-binary.tar.gz')), false);
  });

  test('HTTP errors and unreachable servers become DataErrors naming the URL', async () => {
    await assert.rejects(downloadDataset('cifar100', join(tmp.path, 'http404'), { baseUrl: base }), (e: unknown) => e instanceof DataError && /HTTP 404/.test(e.message) && e.message.includes(`${base}/cifar-100-binary.tar.gz`));
    await assert.rejects(downloadDataset('cifar10', join(tmp.path, 'refused'), { baseUrl: 'http://127.0.0.1:1' }), (e: unknown) => e instanceof DataError && e.message.includes('could not fetch'));
    await assert.rejects(downloadDataset('synthetic', tmp.path), DataError);
  });

  test('loadDataset({download: true}) fetches SVHN files when missing, then reads them', async () => {
    const dir = join(tmp.path, 'svhn');
    const checksums = { 'test_32x32.mat': md5(svhnTest), 'train_32x32.mat': md5(svhnTrain) };
    await assert.rejects(loadDataset('svhn', { split: 'test', dataDir: dir }), (e: unknown) => e instanceof DataError && e.message.includes('--download'));
    const ds = await loadDataset('svhn', { split: 'test', dataDir: dir, download: true, downloadOptions: { baseUrl: base, checksums } });
    assert.deepEqual([...ds.labels], [2, 0]);
    assert.ok(existsSync(join(dir, 'svhn', 'train_32x32.mat')));
    assert.equal(ds.images[((1 * 3 + 1) * 32 + 5) * 32 + 6], pixel(1, 1, 5, 6));
  });
});

describe('tar extraction', () => {
  test('truncated archives and path escapes are refused', async () => {
    const t = join(tmp.path, 'trunc.tar.gz');
    writeFileSync(t, gzipSync(cifarTar.subarray(0, 5000)));
    await assert.rejects(extractTarGz(t, join(tmp.path, 'x1')), (e: unknown) => e instanceof DataError && /truncated/.test(e.message));
    assert.ok(!readdirSync(join(tmp.path, 'x1'), { recursive: true }).some((f) => String(f).includes('.part')), 'partial entry removed');
    writeFileSync(t, cifarGz.subarray(0, cifarGz.length >> 1));
    await assert.rejects(extractTarGz(t, join(tmp.path, 'x2')), (e: unknown) => e instanceof DataError && /truncated or corrupt/.test(e.message));
    writeFileSync(t, gzipSync(tar([{ path: '../evil.txt', data: new Uint8Array(3) }])));
    await assert.rejects(extractTarGz(t, join(tmp.path, 'x3')), (e: unknown) => e instanceof DataError && /outside the destination/.test(e.message));
    assert.equal(existsSync(join(tmp.path, 'evil.txt')), false);
    const bad = Uint8Array.from(tar([{ path: 'a.txt', data: new Uint8Array(3) }]));
    bad[0] = 0x62; // header changed, checksum not updated
    writeFileSync(t, gzipSync(bad));
    await assert.rejects(extractTarGz(t, join(tmp.path, 'x4')), (e: unknown) => e instanceof DataError && /checksum mismatch/.test(e.message));
  });

  test('extracted entries are listed with sizes', async () => {
    const t = join(tmp.path, 'ok.tar.gz');
    writeFileSync(t, cifarGz);
    const entries = await extractTarGz(t, join(tmp.path, 'x5'));
    assert.equal(entries.filter((e) => e.type === 'file').length, 7);
    assert.equal(entries.find((e) => e.path.endsWith('test_batch.bin'))?.size, 3 * 3073);
  });
});
