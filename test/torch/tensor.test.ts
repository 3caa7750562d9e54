import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  tensor, zeros, ones, full, arange, randn, rand, bernoulli, normal, tidy, keep, liveTensors, manualSeed, getRngState, setRngState,
  cat, stack, grad, noGrad, isGradEnabled, F, Conv2d, BatchNorm2d, Linear, Sequential, ReLU, AdaptiveAvgPool2d, Flatten,
  saveSafetensors, loadSafetensors, serializeSafetensors, parseSafetensors, cudaAvailable, SGD, Tensor,
} from '../../src/torch/index.js';
import { runPython } from '../helpers/python.js';
import { cpuBudget, readCpuLimits } from '../../src/util/cpus.js';
import { readEnv } from '../../src/util/env.js';
import { makeTempDir } from '../helpers/tmp.js';

test('creation, dtypes and data round trips', () => {
  tidy(() => {
    const a = tensor([[1, 2, 3], [4, 5, 6]]);
    assert.deepEqual(a.shape, [2, 3]);
    assert.equal(a.dtype, 'float32');
    assert.deepEqual(Array.from(a.toArray() as Float32Array), [1, 2, 3, 4, 5, 6]);
    const l = tensor(new BigInt64Array([5n, -2n]), [2]);
    assert.equal(l.dtype, 'int64');
    assert.deepEqual(l.toNumbers(), [5, -2]);
    assert.equal(tensor([1, 0, 1], { dtype: 'bool' }).dtype, 'bool');
    assert.equal(tensor([1.5], { dtype: 'float64' }).to('int64').item(), 1);
    assert.deepEqual(arange(0, 5).toNumbers(), [0, 1, 2, 3, 4]);
    assert.equal(arange(0, 1, 0.25).dtype, 'float32');
    assert.deepEqual(full([2], 7).toNumbers(), [7, 7]);
    assert.deepEqual(zeros([2, 2]).add(ones([2, 2]), 3).toNumbers(), [3, 3, 3, 3]);
    assert.equal(tensor([1, 2, 3, 4]).gt(2).sum().item(), 2);
    const [v, i] = tensor([3, 9, 1, 7]).topk(2);
    assert.deepEqual(v.toNumbers(), [9, 7]);
    assert.deepEqual(i.toNumbers(), [1, 3]);
    assert.equal(tensor([[1, 5], [7, 2]]).argmax().item(), 2);
    assert.deepEqual(tensor([[1, 5], [7, 2]]).argmax(1).toNumbers(), [1, 0]);
    assert.deepEqual(cat([tensor([1]), tensor([2, 3])]).toNumbers(), [1, 2, 3]);
    assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], 1).shape, [2, 2]);
    assert.ok(Math.abs(tensor([3, 4]).norm().item() - 5) < 1e-6);
  });
});

test('strided slicing matches Python semantics (x[:, :, 1:, 1:] and x[:, :, ::2, ::2])', () => {
  tidy(() => {
    const x = arange(0, 2 * 1 * 4 * 4, 1, { dtype: 'float32' }).view(2, 1, 4, 4);
    const s = x.index(':', ':', '1:', '1:');
    assert.deepEqual(s.shape, [2, 1, 3, 3]);
    assert.deepEqual(s.toNumbers().slice(0, 3), [5, 6, 7]);
    const e = x.index(null, null, '::2', '::2');
    assert.deepEqual(e.shape, [2, 1, 2, 2]);
    assert.deepEqual(e.toNumbers().slice(0, 4), [0, 2, 8, 10]);
    assert.deepEqual(x.narrow(0, 1, 1).shape, [1, 1, 4, 4]);
    assert.deepEqual(x.slice(3, 1, 3).shape, [2, 1, 4, 2]);
  });
});

test('in-place ops mutate and return the same tensor', () => {
  tidy(() => {
    const a = tensor([1, 2, 3]);
    const r = a.mul_(2).add_(tensor([1, 1, 1]), 0.5).sub_(1);
    assert.equal(r, a);
    assert.deepEqual(a.toNumbers(), [1.5, 3.5, 5.5]);
    a.addcmul_(tensor([1, 1, 1]), tensor([2, 2, 2]), 0.5).addcdiv_(tensor([4, 4, 4]), tensor([2, 2, 2]), 1);
    assert.deepEqual(a.toNumbers(), [4.5, 6.5, 8.5]);
    a.zero_();
    assert.equal(a.sum().item(), 0);
  });
});

test('errors: disposed tensors, mismatched shapes and bad dtypes raise JS errors with useful messages', () => {
  const a = tensor([1, 2]);
  const b = tensor([1, 2, 3]);
  assert.throws(() => a.add(b), (e: Error) => /add: The size of tensor a \(2\) must match the size of tensor b \(3\)/.test(e.message));
  assert.throws(() => F.conv2d(zeros([1, 3, 8, 8]), zeros([4, 2, 3, 3])), (e: Error) => /conv2d: .*channels/i.test(e.message));
  assert.throws(() => tensor([1], { dtype: 'complex' as never }), /unknown dtype 'complex'/);
  assert.throws(() => F.crossEntropy(zeros([2, 3]), tensor([0.5, 1.5])), /crossEntropy: .*(Long|Float)/i);
  assert.throws(() => tensor(new Float32Array(3), [2, 2]), /3 elements but shape \[2, 2\] needs 4/);
  assert.throws(() => tensor([1, 2]).item(), /exactly one/);
  a.dispose();
  a.dispose(); // twice is fine
  assert.throws(() => a.add(b), /used after dispose/);
  assert.throws(() => b.add(a), /used after dispose/);
  assert.equal(a.isDisposed, true);
  if (!cudaAvailable()) assert.throws(() => b.to('cuda'), /no CUDA/);
  b.dispose();
});

test('scopes dispose everything made inside except returned and kept tensors', () => {
  const before = liveTensors();
  let kept: Tensor | null = null;
  const out = tidy(() => {
    const a = randn([10]);
    const b = a.mul(2).add(1);
    kept = keep(b.exp());
    return { r: [b.sum()], n: 3 };
  });
  assert.equal(liveTensors(), before + 2, 'only the returned and the kept tensor survive');
  out.r[0]!.dispose();
  kept!.dispose();
  assert.equal(liveTensors(), before);
  assert.throws(() => tidy(() => { randn([2]); throw new Error('boom'); }), /boom/);
  assert.equal(liveTensors(), before, 'a throwing scope still frees its tensors');
  assert.throws(() => tidy(() => Promise.resolve(1)), /Promise/);
});

test('noGrad restores the previous mode', () => {
  assert.equal(isGradEnabled(), true);
  const x = tensor([1], { requiresGrad: true });
  const y = noGrad(() => x.mul(2));
  assert.equal(y.requiresGrad, false);
  assert.equal(isGradEnabled(), true);
  x.dispose();
  y.dispose();
});

test('double backward: d/dx of (d/dx x³) = 6x, and allowUnused gives null', () => {
  tidy(() => {
    const x = tensor([2], { dtype: 'float64', requiresGrad: true });
    const z = tensor([1], { dtype: 'float64', requiresGrad: true });
    const [g] = grad(x.pow(3).sum(), [x], { createGraph: true });
    assert.equal(g!.item(), 12);
    const [h, unused] = grad(g!.sum(), [x, z], { allowUnused: true });
    assert.equal(h!.item(), 12);
    assert.equal(unused, null);
  });
});

test('one seed gives the same numbers; the RNG state can be saved and restored', () => {
  tidy(() => {
    manualSeed(42);
    const a = randn([5]).toNumbers();
    const n1 = normal(1, 2, [3]).toNumbers();
    manualSeed(42);
    assert.deepEqual(randn([5]).toNumbers(), a);
    assert.deepEqual(normal(1, 2, [3]).toNumbers(), n1);
    const st = getRngState();
    const r1 = rand([4]).toNumbers();
    const b1 = bernoulli(zeros([100]), 0.5).sum().item();
    setRngState(st);
    assert.deepEqual(rand([4]).toNumbers(), r1);
    assert.equal(bernoulli(zeros([100]), 0.5).sum().item(), b1);
  });
});

test("intra-op threads default to the number of cores (not libtorch-on-Debian's 1), and RDARTS_THREADS overrides", () => {
  const probe = `import('${new URL('../../src/torch/runtime.js', import.meta.url).href}').then((m) => console.log(m.getNumThreads()))`;
  const run = (env: NodeJS.ProcessEnv): number => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    return Number(r.stdout.trim());
  };
  const { RDARTS_THREADS: _drop, ...rest } = process.env;
  assert.equal(run(rest), cpuBudget(readCpuLimits(readEnv(rest)))); // the CPUs this process may use (docs/threads.md); = cpus().length on an unrestricted machine
  assert.equal(run({ ...rest, RDARTS_THREADS: '1' }), 1);
});

test('Module: named parameters and buffers with PyTorch keys, train/eval, state dict round trip with strict key checks', () => {
  manualSeed(0);
  const net = new Sequential(new Conv2d(3, 4, 3, { padding: 1, bias: false }), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2));
  assert.deepEqual([...net.stateDict().keys()], ['0.weight', '1.weight', '1.bias', '5.weight', '5.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
  assert.equal(net.numParameters(), 4 * 3 * 9 + 4 + 4 + 8 + 2);
  net.eval();
  assert.equal(net.layers[1]!.training, false);
  net.train();
  tidy(() => net.forward(randn([2, 3, 5, 5])));
  assert.equal(net.stateDict().get('1.num_batches_tracked')!.item(), 1);
  assert.notEqual(net.stateDict().get('1.running_mean')!.abs().sum().item(), 0, 'running stats updated in train mode');
  const other = new Sequential(new Conv2d(3, 4, 3, { padding: 1, bias: false }), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 2));
  other.loadStateDict(net.stateDict());
  tidy(() => {
    const x = randn([2, 3, 5, 5]);
    net.eval();
    other.eval();
    assert.deepEqual(net.forward(x).toNumbers(), other.forward(x).toNumbers());
  });
  const bad = new Map(net.stateDict());
  bad.delete('5.bias');
  bad.set('extra', zeros([1]));
  assert.throws(() => other.loadStateDict(bad), /missing keys \[5\.bias\], unexpected keys \[extra\]/);
  net.dispose();
  other.dispose();
});

test('safetensors: round trip, a file written here loads in Python torch with equal values, and corruption is detected', () => {
  const dir = makeTempDir('st');
  const path = join(dir, 't.safetensors');
  tidy(() => {
    manualSeed(5);
    const tensors = {
      'a.weight': randn([3, 4]),
      'b.x64': randn([2, 2], { dtype: 'float64' }),
      'c.idx': tensor(new BigInt64Array([1n, -7n, 9n]), [3]),
      'd.mask': tensor([1, 0, 1], { dtype: 'bool' }),
      scalar: tensor([3.5]).view([]),
    };
    saveSafetensors(path, tensors, { format: 'pt', note: 'robust-darts test' });
    const back = loadSafetensors(path);
    assert.equal(back.metadata.note, 'robust-darts test');
    for (const [k, t] of Object.entries(tensors)) {
      const r = back.tensors.get(k)!;
      assert.deepEqual(r.shape, t.shape, k);
      assert.equal(r.dtype, t.dtype, k);
      assert.deepEqual(r.toNumbers(), t.toNumbers(), k);
    }
    // Python reads it with torch (the format parsed independently: header JSON + raw bytes)
    const py = runPython(
      `
import json, struct, sys, torch
path = json.loads(sys.stdin.read())
raw = open(path, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
hdr = json.loads(raw[8:8+n])
dt = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'BOOL': torch.bool}
out = {}
for k, v in hdr.items():
    if k == '__metadata__': continue
    s, e = v['data_offsets']
    t = torch.frombuffer(bytearray(raw[8+n+s:8+n+e]), dtype=dt[v['dtype']]).reshape(v['shape'])
    out[k] = {'shape': list(t.shape), 'values': t.double().flatten().tolist()}
print(json.dumps(out))
`,
      path,
    );
    for (const [k, t] of Object.entries(tensors)) {
      assert.deepEqual(py[k].shape, t.shape, k);
      const ours = t.dtype === 'float32' ? Array.from(t.toArray() as Float32Array) : t.toNumbers();
      assert.deepEqual(py[k].values, ours, k);
    }
    // corruption: truncated file, and a header pointing outside the data
    const raw = readFileSync(path);
    writeFileSync(join(dir, 'trunc.safetensors'), raw.subarray(0, raw.length - 5));
    assert.throws(() => loadSafetensors(join(dir, 'trunc.safetensors')), /not a valid safetensors file/);
    assert.throws(() => parseSafetensors(Buffer.from([1, 2, 3])), /only 3 bytes/);
    const buf = serializeSafetensors({ x: tensor([1, 2]) });
    const flipped = Buffer.from(buf);
    flipped.writeBigUInt64LE(BigInt(buf.length * 2), 0);
    assert.throws(() => parseSafetensors(flipped), /header length/);
  });
});

test('memory: 10,000 forward+backward steps of a small conv net inside scopes keep RSS flat (< 50 MB growth after warm-up)', () => {
  manualSeed(0);
  const net = new Sequential(new Conv2d(1, 4, 3, { padding: 1 }), new BatchNorm2d(4), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(4, 3));
  const opt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9 });
  const x = keep(randn([4, 1, 8, 8]));
  const y = keep(tensor(new BigInt64Array([0n, 1n, 2n, 1n]), [4]));
  const step = (): void =>
    tidy(() => {
      opt.zeroGrad();
      F.crossEntropy(net.forward(x), y).backward();
      opt.step();
    });
  for (let i = 0; i < 500; i++) step();
  const live0 = liveTensors();
  const rss0 = process.memoryUsage().rss;
  for (let i = 0; i < 10000; i++) step();
  const growth = (process.memoryUsage().rss - rss0) / 1e6;
  assert.equal(liveTensors(), live0, 'no tensor handle leaked');
  assert.ok(growth < 50, `RSS grew by ${growth.toFixed(1)} MB`);
  x.dispose();
  y.dispose();
  opt.dispose();
  net.dispose();
});
