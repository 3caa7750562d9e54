/**
 * Tensor lifetimes: scopes (`tidy`), `keep`, `disposeAll`, the live-handle count, and the GC
 * safety net for tensors that live outside every scope. The Tensor class calls `adopt` from its
 * constructor; nothing here needs the class itself (tensors are recognised by the `SCOPED` brand).
 */
import { native, type Handle } from './native.js';

/** What a scope holds: a tensor, seen only through its lifetime fields. */
export interface ScopeMember {
  /** @internal the scope that owns this tensor */
  _scope: Scope | null;
  readonly handle: Handle;
  readonly isDisposed: boolean;
  dispose(): void;
  readonly [SCOPED]: true;
}

/**
 * A scope is the list of tensors created while it was the innermost one. Membership is the
 * tensor's `_scope` field: dispose() and keep() just clear it (no removal from the list), and
 * the scope's end skips entries that no longer point at it. A push per op is the whole cost.
 */
export type Scope = ScopeMember[];

/** @internal the brand (a prototype getter on Tensor) by which scopes recognise tensors */
export const SCOPED: unique symbol = Symbol('rdarts.tensor');

const scopes: Scope[] = [];

/**
 * Safety net for tensors that live outside every scope: when such a Tensor object is garbage
 * collected without dispose(), its native reference is dropped. Tensors made inside a scope are
 * freed deterministically by the scope and skip this (registration costs about as much as an op).
 * Disposing a handle twice is harmless (the native side ignores stale handles).
 */
const finalizer = new FinalizationRegistry<Handle>((hd) => native.dispose(hd));

/** @internal called by the Tensor constructor: join the innermost scope, or the GC safety net. */
export function adopt(t: ScopeMember, handle: Handle): void {
  const top = scopes.length ? scopes[scopes.length - 1]! : null;
  if (top) {
    top.push(t);
    t._scope = top;
  } else {
    finalizer.register(t, handle);
  }
}

function release(scope: Scope): void {
  for (const t of scope) if (t._scope === scope) t.dispose();
}

/**
 * Run `fn` in a scope: every tensor created inside is disposed when it returns, except the
 * tensors it returns (directly, or inside arrays / plain objects) and those passed to `keep`.
 * Returned tensors move to the enclosing scope. Like tfjs's `tidy`.
 * `fn` must be synchronous; a returned Promise is an error (its tensors could not be tracked).
 */
export function tidy<T>(fn: () => T): T {
  const scope: Scope = [];
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    scopes.pop();
    release(scope);
    throw e;
  }
  scopes.pop();
  if (result instanceof Promise) {
    release(scope);
    throw new Error('tidy(fn): fn returned a Promise; scopes only track synchronous work (await outside tidy, or use keep())');
  }
  const survivors = new Set<ScopeMember>();
  collectTensors(result, survivors, 0);
  const parent = scopes.length ? scopes[scopes.length - 1]! : null;
  for (const t of scope) {
    if (t._scope !== scope) continue;
    if (survivors.has(t)) {
      t._scope = parent;
      if (parent) parent.push(t);
      else if (!t.isDisposed) finalizer.register(t, t.handle);
    } else {
      t.dispose();
    }
  }
  return result;
}

function isTensor(v: object): v is ScopeMember {
  return (v as Partial<ScopeMember>)[SCOPED] === true;
}

function collectTensors(v: unknown, out: Set<ScopeMember>, depth: number): void {
  if (depth > 8 || v === null || typeof v !== 'object') return;
  if (isTensor(v)) {
    out.add(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const e of v) collectTensors(e, out, depth + 1);
    return;
  }
  if (v instanceof Map) {
    for (const e of v.values()) collectTensors(e, out, depth + 1);
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    for (const e of Object.values(v as Record<string, unknown>)) collectTensors(e, out, depth + 1);
  }
}

/** Take a tensor out of every scope: it lives until `dispose()` (or, as a last resort, GC). */
export function keep<T extends ScopeMember>(t: T): T {
  if (t._scope) {
    t._scope = null;
    if (!t.isDisposed) finalizer.register(t, t.handle);
  }
  return t;
}

/** Number of live native tensor handles (for leak tests). */
export function liveTensors(): number {
  return native.liveCount();
}

/** Dispose every tensor found in `v` (a tensor, or arrays / objects of tensors). */
export function disposeAll(v: unknown): void {
  const s = new Set<ScopeMember>();
  collectTensors(v, s, 0);
  for (const t of s) t.dispose();
}
