import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { repoRoot } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';
import { tensor, tidy, zeros, Tensor } from '../../src/torch/index.js';
import { native } from '../../src/torch/native.js';
import { TorchError } from '../../src/errors.js';

interface OpLine {
  name: string;
  kind: string;
  args?: string[];
  cpp?: string;
}
const spec = JSON.parse(readFileSync(join(repoRoot, 'native', 'ops.json'), 'utf8')) as { ops: OpLine[] };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

test('the committed generated op files are what scripts/gen-ops.mjs makes from native/ops.json', () => {
  const tmp = tempDir('gen-ops');
  try {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-ops.mjs'), '--out', tmp.path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const made = files(tmp.path).map((f) => relative(tmp.path, f)).sort();
    assert.deepEqual(made, ['native/src/ops.generated.inc', 'src/torch/native-ops.generated.ts', 'src/torch/ops.generated.ts']);
    for (const f of made) {
      const committed = readFileSync(join(repoRoot, f), 'utf8');
      assert.ok(committed === readFileSync(join(tmp.path, f), 'utf8'), `${f} is stale: run 'node scripts/gen-ops.mjs' and rebuild the addon`);
    }
  } finally {
    tmp.cleanup();
  }
});

test('adding a unary, binary, in-place or reduction op is one allow-list line', () => {
  const tmp = tempDir('gen-ops-line');
  try {
    const extra: OpLine[] = [
      { name: 'expm1', kind: 'unary' },
      { name: 'hypot', kind: 'binary-tensor' },
      { name: 'lerp_', kind: 'inplace-ternary' },
      { name: 'nansum', kind: 'reduction' },
      { name: 'diagonalCopy', kind: 'method', args: ['offset: int = 0', 'dim1: int = 0', 'dim2: int = 1'], cpp: 'at::diagonal_copy(x, offset, dim1, dim2)' },
    ] as OpLine[];
    const specFile = join(tmp.path, 'ops.json');
    writeFileSync(specFile, JSON.stringify({ ...spec, ops: [...spec.ops, ...extra] }));
    const out = join(tmp.path, 'out');
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-ops.mjs'), '--spec', specFile, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const cc = readFileSync(join(out, 'native/src/ops.generated.inc'), 'utf8');
    const nat = readFileSync(join(out, 'src/torch/native-ops.generated.ts'), 'utf8');
    const ts = readFileSync(join(out, 'src/torch/ops.generated.ts'), 'utf8');
    assert.match(cc, /Napi::Value Gen_expm1\(const Napi::CallbackInfo& info\) \{\n {2}auto& x = T\(info\[0\]\);\n {2}return Wrap\(info.Env\(\), x.expm1\(\)\);/);
    assert.match(cc, /EXPORT\("expm1", Gen_expm1\);/);
    assert.match(cc, /at::hypot\(a, b\)/);
    assert.match(cc, /a\.lerp_\(b, c, value\)/);
    assert.match(cc, /x\.nansum\(dims, keep\)/);
    assert.match(nat, /expm1\(x: H\): H;/);
    assert.match(nat, /nansum\(x: H, dims: number \| number\[\] \| null, keepdim: boolean\): H;/);
    assert.match(ts, /expm1\(\): T \{/);
    assert.match(ts, /hypot\(other: T\): T \{/);
    assert.match(ts, /lerp_\(t1: T, t2: T, value = 1\): this \{/);
    assert.match(ts, /nansum\(dims\?: number \| number\[\], keepdim = false\): T \{/);
    assert.match(cc, /int64_t offset = Int\(info\[1\], "offset"\);\n {2}int64_t dim1 = Int\(info\[2\], "dim1"\);/);
    assert.match(ts, /diagonalCopy\(offset = 0, dim1 = 0, dim2 = 1\): T \{\n {4}return this\._wrap\(op_diagonalCopy\(this\.handle, offset, dim1, dim2\)\);/);
    // a bad line is refused with the reason
    writeFileSync(specFile, JSON.stringify({ ...spec, ops: [...spec.ops, { name: 'exp', kind: 'unary' }] }));
    const bad = spawnSync(process.execPath, [join(repoRoot, 'scripts', 'gen-ops.mjs'), '--spec', specFile, '--out', out], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /op "exp": listed twice/);
  } finally {
    tmp.cleanup();
  }
});

test('every allow-listed op is a Tensor method and an addon export', () => {
  assert.ok(spec.ops.length >= 60);
  const addon = native as unknown as Record<string, unknown>;
  const proto = Tensor.prototype as unknown as Record<string, unknown>;
  for (const o of spec.ops) {
    assert.equal(typeof proto[o.name], 'function', `Tensor.${o.name}`);
    assert.equal(typeof addon[o.name], 'function', `addon export ${o.name} (rebuild the addon?)`);
  }
});

test('native errors are TorchErrors (exit code 6) named after the public op, for each generated kind and the factories', () => {
  const cases: Array<[string, () => unknown]> = [
    ['neg', () => tensor([1, 0], { dtype: 'bool' }).neg()],
    ['add', () => tensor([1, 2]).add(tensor([1, 2, 3]))],
    ['matmul', () => tensor([1, 2]).matmul(tensor([1, 2, 3]))],
    ['add_', () => tensor([1, 2]).add_(tensor([1, 2, 3]), 2)],
    ['copy_', () => tensor([1, 2]).copy_(tensor([1, 2, 3]))],
    ['addcmul_', () => tensor([1, 2]).addcmul_(tensor([1, 2, 3]), tensor([1, 2, 3]))],
    ['sum', () => tensor([1, 2]).sum(5)],
    ['prod', () => tensor([1, 2]).prod(3)],
    ['max', () => tensor([1, 2]).max([0, 4])],
    ['transpose', () => tensor([1, 2]).transpose(0, 3)],
    ['pad', () => tensor([1, 2]).pad([1, 1, 1])],
    ['zeros', () => zeros([-1])],
    ['tensor', () => tensor(new Float32Array(3), [2, 2])],
  ];
  tidy(() => {
    for (const [op, fn] of cases) {
      assert.throws(fn, (e: unknown) => {
        assert.ok(e instanceof TorchError, `${op}: ${String(e)}`);
        assert.equal(e.exitCode, 6);
        assert.equal(e.op, op);
        assert.ok(e.message.startsWith(`${op}: `), e.message);
        return true;
      });
    }
  });
});
