#!/usr/bin/env node
// Generates the op surface from the allow-list native/ops.json:
//   native/src/ops.generated.inc         the addon's functions and their exports (#included by addon.cc)
//   src/torch/native-ops.generated.ts    the addon's TypeScript types for them
//   src/torch/ops.generated.ts           the Tensor methods (Tensor extends TensorOps)
//
//   node scripts/gen-ops.mjs              write the three files
//   node scripts/gen-ops.mjs --check      exit 1 (naming the files) when a committed file is stale
//   node scripts/gen-ops.mjs --out DIR    write them under DIR instead of the repository
//   node scripts/gen-ops.mjs --spec FILE  read another allow-list (with --out: tests)
//
// Plain Node, no dependencies. Each kind (see "$kinds" in ops.json) fixes the arguments on both
// sides; an op line only names the op, its kind and, where the default does not fit, its libtorch
// expression. The `method` kind takes typed arguments ("dim: int", "index: Tensor", "end: int = -1").
// Ops that need hand-written marshalling (conv2d, grad, slice, variadic shapes, ...) stay in addon.cc.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SPEC = 'native/ops.json';
export const OUTPUTS = {
  cc: 'native/src/ops.generated.inc',
  nativeTs: 'src/torch/native-ops.generated.ts',
  opsTs: 'src/torch/ops.generated.ts',
};

const snake = (name) => name.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());

/** Per kind: the C++ body, the addon's TS signature and the Tensor method. */
const KINDS = {
  unary: {
    cc: (o) => [`  auto& x = T(info[0]);`, `  return Wrap(info.Env(), ${o.cpp ?? `x.${snake(o.name)}()`});`],
    native: () => `(x: H): H`,
    method: (o) => [`${o.name}(): T {`, `  return this._wrap(op_${o.name}(this.handle));`, `}`],
  },
  binary: {
    cc: (o) => {
      const al = o.alpha ? ', alpha' : '';
      return [
        `  auto& a = T(info[0], "left operand");`,
        ...(o.alpha ? [`  at::Scalar alpha = info[3].IsNumber() ? ScalarOf(info[3]) : at::Scalar(1);`] : []),
        `  if (Flag(info[2])) {`,
        `    at::Scalar s = ScalarOf(info[1]);`,
        `    return Wrap(info.Env(), ${o.cppScalar ?? `at::${snake(o.name)}(a, s${al})`});`,
        `  }`,
        `  auto& b = T(info[1], "right operand");`,
        `  return Wrap(info.Env(), ${o.cpp ?? `at::${snake(o.name)}(a, b${al})`});`,
      ];
    },
    native: (o) => `(a: H, b: H | number, bIsScalar: boolean${o.alpha ? ', alpha: number | null' : ''}): H`,
    method: (o) => {
      const al = o.alpha ? ', alpha ?? null' : '';
      return [
        `${o.name}(other: T | number${o.alpha ? ', alpha?: number' : ''}): T {`,
        `  return typeof other === 'number'`,
        `    ? this._wrap(op_${o.name}(this.handle, other, true${al}))`,
        `    : this._wrap(op_${o.name}(this.handle, other.handle, false${al}));`,
        `}`,
      ];
    },
  },
  'binary-tensor': {
    cc: (o) => [
      `  auto& a = T(info[0], "left operand");`,
      `  auto& b = T(info[1], "right operand");`,
      `  return Wrap(info.Env(), ${o.cpp ?? `at::${snake(o.name)}(a, b)`});`,
    ],
    native: () => `(a: H, b: H): H`,
    method: (o) => [`${o.name}(other: T): T {`, `  return this._wrap(op_${o.name}(this.handle, other.handle));`, `}`],
  },
  inplace: {
    cc: (o) => {
      const al = o.alpha ? ', alpha' : '';
      return [
        `  auto& a = T(info[0], "target");`,
        ...(o.alpha ? [`  at::Scalar alpha = info[3].IsNumber() ? ScalarOf(info[3]) : at::Scalar(1);`] : []),
        `  if (Flag(info[2])) {`,
        `    ${o.cppScalar ?? `a.${snake(o.name)}(ScalarOf(info[1])${al})`};`,
        `  } else {`,
        `    auto& b = T(info[1], "operand");`,
        `    ${o.cpp ?? `a.${snake(o.name)}(b${al})`};`,
        `  }`,
        `  return info.Env().Undefined();`,
      ];
    },
    native: (o) => `(a: H, b: H | number, bIsScalar: boolean${o.alpha ? ', alpha: number | null' : ''}): void`,
    method: (o) => {
      const al = o.alpha ? ', alpha ?? null' : '';
      return [
        `${o.name}(other: T | number${o.alpha ? ', alpha?: number' : ''}): this {`,
        `  if (typeof other === 'number') op_${o.name}(this.handle, other, true${al});`,
        `  else op_${o.name}(this.handle, other.handle, false${al});`,
        `  return this;`,
        `}`,
      ];
    },
  },
  'inplace-tensor': {
    cc: (o) => [
      `  auto& a = T(info[0], "target");`,
      `  auto& b = T(info[1], "source");`,
      `  ${o.cpp ?? `a.${snake(o.name)}(b)`};`,
      `  return info.Env().Undefined();`,
    ],
    native: () => `(a: H, src: H): void`,
    method: (o) => [`${o.name}(src: T): this {`, `  op_${o.name}(this.handle, src.handle);`, `  return this;`, `}`],
  },
  'inplace-scalar': {
    cc: (o) => [
      `  auto& a = T(info[0], "target");`,
      `  at::Scalar s = ScalarOf(info[1]);`,
      `  ${o.cpp ?? `a.${snake(o.name)}(s)`};`,
      `  return info.Env().Undefined();`,
    ],
    native: () => `(a: H, value: number): void`,
    method: (o) => [`${o.name}(value: number): this {`, `  op_${o.name}(this.handle, value);`, `  return this;`, `}`],
  },
  'inplace-nullary': {
    cc: (o) => [`  auto& a = T(info[0], "target");`, `  ${o.cpp ?? `a.${snake(o.name)}()`};`, `  return info.Env().Undefined();`],
    native: () => `(a: H): void`,
    method: (o) => [`${o.name}(): this {`, `  op_${o.name}(this.handle);`, `  return this;`, `}`],
  },
  'inplace-ternary': {
    cc: (o) => [
      `  auto& a = T(info[0], "target");`,
      `  auto& b = T(info[1], "t1");`,
      `  auto& c = T(info[2], "t2");`,
      `  at::Scalar value = info[3].IsNumber() ? ScalarOf(info[3]) : at::Scalar(1);`,
      `  ${o.cpp ?? `a.${snake(o.name)}(b, c, value)`};`,
      `  return info.Env().Undefined();`,
    ],
    native: () => `(a: H, t1: H, t2: H, value: number): void`,
    method: (o) => [
      `${o.name}(t1: T, t2: T, value = 1): this {`,
      `  op_${o.name}(this.handle, t1.handle, t2.handle, value);`,
      `  return this;`,
      `}`,
    ],
  },
  reduction: {
    cc: (o) => [
      `  auto& x = T(info[0]);`,
      `  if (info[1].IsNull() || info[1].IsUndefined()) return Wrap(info.Env(), ${o.cppAll ?? `x.${snake(o.name)}()`});`,
      `  std::vector<int64_t> dims = Ints(info[1], "dims");`,
      `  bool keep = Bool(info[2]);`,
      `  return Wrap(info.Env(), ${o.cpp ?? `x.${snake(o.name)}(dims, keep)`});`,
    ],
    native: () => `(x: H, dims: number | number[] | null, keepdim: boolean): H`,
    method: (o) => [
      `${o.name}(dims?: number | number[], keepdim = false): T {`,
      `  return this._wrap(op_${o.name}(this.handle, dims ?? null, keepdim));`,
      `}`,
    ],
  },
  'reduction-dim': {
    cc: (o) => [
      `  auto& x = T(info[0]);`,
      `  if (info[1].IsNull() || info[1].IsUndefined()) return Wrap(info.Env(), ${o.cppAll ?? `x.${snake(o.name)}()`});`,
      `  int64_t dim = Int(info[1], "dim");`,
      `  bool keep = Bool(info[2]);`,
      `  return Wrap(info.Env(), ${o.cpp ?? `x.${snake(o.name)}(dim, keep)`});`,
    ],
    native: () => `(x: H, dim: number | null, keepdim: boolean): H`,
    method: (o) => [
      `${o.name}(dim?: number, keepdim = false): T {`,
      `  return this._wrap(op_${o.name}(this.handle, dim ?? null, keepdim));`,
      `}`,
    ],
  },
};

// ---- typed arguments of the `method` kind: "name: type" or "name: type = default"
const ARG_TYPES = {
  int: { cc: (n, i) => `int64_t ${n} = Int(info[${i}], "${n}");`, native: 'number', ts: 'number' },
  'int?': {
    cc: (n, i) => `c10::optional<int64_t> ${n};\n  if (info[${i}].IsNumber()) ${n} = Int(info[${i}], "${n}");`,
    native: 'number | null',
    ts: 'number',
  },
  'int[]': { cc: (n, i) => `std::vector<int64_t> ${n} = Ints(info[${i}], "${n}");`, native: 'number[]', ts: 'number[]' },
  float: { cc: (n, i) => `double ${n} = Num(info[${i}], "${n}");`, native: 'number', ts: 'number' },
  scalar: { cc: (n, i) => `at::Scalar ${n} = ScalarOf(info[${i}]);`, native: 'number', ts: 'number' },
  bool: { cc: (n, i) => `bool ${n} = Bool(info[${i}]);`, native: 'boolean', ts: 'boolean' },
  Tensor: { cc: (n, i) => `auto& ${n} = T(info[${i}], "${n}");`, native: 'H', ts: 'T' },
};

function parseArgs(o) {
  return (o.args ?? []).map((spec) => {
    const m = /^([a-z][A-Za-z0-9]*): (int\?|int\[\]|int|float|scalar|bool|Tensor)(?: = (-?[0-9.]+|true|false))?$/.exec(spec);
    if (!m) throw new Error(`${SPEC}: op ${JSON.stringify(o.name)}: cannot parse argument ${JSON.stringify(spec)} (expected "name: type[ = default]", types: ${Object.keys(ARG_TYPES).join(', ')})`);
    return { name: m[1], type: m[2], def: m[3] };
  });
}

KINDS.method = {
  cc: (o) => [
    `  auto& x = T(info[0]);`,
    ...parseArgs(o).map((a, i) => '  ' + ARG_TYPES[a.type].cc(a.name, i + 1)),
    `  return Wrap(info.Env(), ${o.cpp});`,
  ],
  native: (o) => `(x: H${parseArgs(o).map((a) => `, ${a.name}: ${ARG_TYPES[a.type].native}`).join('')}): H`,
  method: (o) => {
    const args = parseArgs(o);
    const params = args.map((a) => (a.def !== undefined ? `${a.name} = ${a.def}` : a.type === 'int?' ? `${a.name}?: number` : `${a.name}: ${ARG_TYPES[a.type].ts}`));
    const pass = args.map((a) => (a.type === 'Tensor' ? `${a.name}.handle` : a.type === 'int?' ? `${a.name} ?? null` : a.name));
    return [`${o.name}(${params.join(', ')}): T {`, `  return this._wrap(op_${o.name}(this.handle${pass.map((p) => ', ' + p).join('')}));`, `}`];
  },
};

const KEYS = new Set(['name', 'kind', 'cpp', 'cppScalar', 'cppAll', 'alpha', 'args', 'doc']);

/** Validate the allow-list: known kinds and keys, unique names that are identifiers in both languages. */
export function validate(spec) {
  const seen = new Set();
  for (const o of spec.ops) {
    const where = `${SPEC}: op ${JSON.stringify(o.name)}`;
    if (typeof o.name !== 'string' || !/^[a-z][A-Za-z0-9]*_?$/.test(o.name)) throw new Error(`${where}: name must be a camelCase identifier (optionally ending in _)`);
    if (seen.has(o.name)) throw new Error(`${where}: listed twice`);
    seen.add(o.name);
    if (!KINDS[o.kind]) throw new Error(`${where}: unknown kind ${JSON.stringify(o.kind)} (known: ${Object.keys(KINDS).join(', ')})`);
    for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new Error(`${where}: unknown key ${JSON.stringify(k)}`);
    if (o.kind.startsWith('inplace') !== o.name.endsWith('_')) throw new Error(`${where}: in-place ops, and only they, end in _`);
    if (o.alpha && o.kind !== 'binary' && o.kind !== 'inplace') throw new Error(`${where}: alpha only applies to binary and inplace ops`);
    if ((o.args !== undefined) !== (o.kind === 'method')) throw new Error(`${where}: args are given for, and only for, the method kind`);
    if (o.kind === 'method' && typeof o.cpp !== 'string') throw new Error(`${where}: a method needs its cpp expression`);
    if (o.kind === 'method') parseArgs(o);
  }
}

const HEADER = (comment) => `${comment} GENERATED by scripts/gen-ops.mjs from ${SPEC}; do not edit (edit ${SPEC} and run: node scripts/gen-ops.mjs).`;

function genCc(spec) {
  const out = [HEADER('//'), '//', '// Included by addon.cc inside its anonymous namespace, after the marshalling helpers and', '// EXPORT. One function per op; each is exported under the op\'s public name, which is also', '// the name its errors carry.', ''];
  for (const o of spec.ops) {
    out.push(`// ${o.name}${KINDS[o.kind].native(o)}  [${o.kind}]`);
    out.push(`Napi::Value Gen_${o.name}(const Napi::CallbackInfo& info) {`, ...KINDS[o.kind].cc(o), '}', '');
  }
  out.push('void ExportGeneratedOps(Napi::Env env, Napi::Object exports) {');
  for (const o of spec.ops) out.push(`  EXPORT("${o.name}", Gen_${o.name});`);
  out.push('}', '');
  return out.join('\n');
}

function genNativeTs(spec) {
  const out = [HEADER('//'), '', '/** The addon functions generated from native/ops.json (`H` is the tensor handle type). */', 'export interface GeneratedNativeOps<H> {'];
  for (const o of spec.ops) out.push(`  ${o.name}${KINDS[o.kind].native(o)};`);
  out.push('}', '');
  return out.join('\n');
}

function genOpsTs(spec) {
  const out = [
    HEADER('//'),
    "import { native, type Handle } from './native.js';",
    '',
    '// The addon functions, looked up once (the addon object holds its many exports in dictionary mode).',
  ];
  for (const o of spec.ops) out.push(`const op_${o.name} = native.${o.name};`);
  out.push(
    '',
    '/**',
    ' * The Tensor methods generated from native/ops.json: element-wise, in-place, reduction and simple',
    ' * shape ops.',
    ' * `Tensor` extends this class; `T` is `Tensor`. Errors are `TorchError`s named after the method.',
    ' */',
    'export abstract class TensorOps<T extends TensorOps<T>> {',
    '  /** The native handle (throws after dispose()). */',
    '  abstract get handle(): Handle;',
    '  /** @internal wrap a new native handle as a tensor */',
    '  protected abstract _wrap(h: Handle): T;',
  );
  let kind = '';
  for (const o of spec.ops) {
    if (o.kind !== kind) {
      out.push('', `  // ---- ${o.kind}`);
      kind = o.kind;
    }
    if (o.doc) out.push(`  /** ${o.doc} */`);
    for (const line of KINDS[o.kind].method(o)) out.push('  ' + line);
  }
  out.push('}', '');
  return out.join('\n');
}

/** The generated files, keyed by their path relative to the repository root. */
export function generate(spec = JSON.parse(readFileSync(join(ROOT, SPEC), 'utf8'))) {
  validate(spec);
  return { [OUTPUTS.cc]: genCc(spec), [OUTPUTS.nativeTs]: genNativeTs(spec), [OUTPUTS.opsTs]: genOpsTs(spec) };
}

function main(argv) {
  const si = argv.indexOf('--spec');
  const specPath = si >= 0 ? resolve(argv[si + 1]) : join(ROOT, SPEC);
  const spec = JSON.parse(readFileSync(specPath, 'utf8'));
  const files = generate(spec);
  if (argv.includes('--check')) {
    const stale = Object.entries(files).filter(([p, text]) => {
      try {
        return readFileSync(join(ROOT, p), 'utf8') !== text;
      } catch {
        return true;
      }
    });
    for (const [p] of stale) console.error(`stale: ${p} (run: node scripts/gen-ops.mjs)`);
    process.exit(stale.length ? 1 : 0);
  }
  const oi = argv.indexOf('--out');
  const base = oi >= 0 ? resolve(argv[oi + 1]) : ROOT;
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(base, p)), { recursive: true });
    writeFileSync(join(base, p), text);
  }
  console.log(`gen-ops: ${Object.keys(files).length} files from ${specPath} (${spec.ops.length} ops)${oi >= 0 ? ' under ' + base : ''}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
