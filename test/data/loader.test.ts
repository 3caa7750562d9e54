import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CheckpointError, DataError } from '../../src/errors.js';
import { Rng } from '../../src/util/rng.js';
import { BatchLoader, RandomBatchSampler, subsetIndices, trainValSplit, type BatchLoaderState } from '../../src/data/index.js';

describe('train/val split', () => {
  test('first floor(portion·n) indices train, the rest validate', () => {
    const c = trainValSplit(50000);
    assert.equal(c.train.length, 25000);
    assert.equal(c.val.length, 25000);
    assert.equal(c.train[0], 0);
    assert.equal(c.train[24999], 24999);
    assert.equal(c.val[0], 25000);
    assert.equal(c.val[24999], 49999);
    const s = trainValSplit(73257, 0.5);
    assert.deepEqual([s.train.length, s.val.length], [36628, 36629]);
    assert.equal(s.val[0], 36628);
    const t = trainValSplit(10, 0.8);
    assert.deepEqual([...t.val], [8, 9]);
    assert.throws(() => trainValSplit(10, 1), DataError);
    assert.throws(() => trainValSplit(1, 0.5), DataError);
  });

  test('subsetIndices: k distinct sorted indices, deterministic per seed', () => {
    const a = subsetIndices(1000, 50, new Rng(4));
    assert.equal(a.length, 50);
    assert.equal(new Set(a).size, 50);
    for (let i = 1; i < a.length; i++) assert.ok(a[i]! > a[i - 1]!);
    assert.ok(a.every((v) => v >= 0 && v < 1000));
    assert.deepEqual(a, subsetIndices(1000, 50, new Rng(4)));
    assert.notDeepEqual(a, subsetIndices(1000, 50, new Rng(5)));
    assert.deepEqual([...subsetIndices(5, 5, new Rng(0))], [0, 1, 2, 3, 4]);
  });
});

describe('BatchLoader', () => {
  const set = Int32Array.from({ length: 10 }, (_, i) => 100 + i);

  test('every index exactly once per pass; last batch smaller; epochEnd flags it', () => {
    const l = new BatchLoader(set, 3, 7);
    assert.equal(l.stepsPerEpoch, 4);
    const passes: number[][] = [];
    for (let p = 0; p < 3; p++) {
      const seen: number[] = [];
      for (let s = 0; s < 4; s++) {
        const b = l.next();
        assert.equal(b.pass, p);
        assert.equal(b.step, s);
        assert.equal(b.epochEnd, s === 3);
        assert.equal(b.indices.length, s === 3 ? 1 : 3);
        seen.push(...b.indices);
      }
      assert.deepEqual([...seen].sort((a, b) => a - b), [...set]);
      passes.push(seen);
    }
    assert.notDeepEqual(passes[0], passes[1], 'a fresh permutation each pass');
  });

  test('dropLast gives floor(n/B) full batches', () => {
    const l = new BatchLoader(set, 3, 7, { dropLast: true });
    assert.equal(l.stepsPerEpoch, 3);
    const sizes = Array.from({ length: 7 }, () => l.next());
    assert.deepEqual(sizes.map((b) => b.indices.length), [3, 3, 3, 3, 3, 3, 3]);
    assert.deepEqual(sizes.map((b) => b.pass), [0, 0, 0, 1, 1, 1, 2]);
    assert.equal(new Set(sizes.slice(0, 3).flatMap((b) => [...b.indices])).size, 9);
    assert.throws(() => new BatchLoader(set, 11, 0, { dropLast: true }), DataError);
  });

  test('same seed → same batches; other seed → other batches', () => {
    const run = (seed: number) => {
      const l = new BatchLoader(set, 4, seed);
      return Array.from({ length: 9 }, () => [...l.next().indices]);
    };
    assert.deepEqual(run(1), run(1));
    assert.notDeepEqual(run(1), run(2));
  });

  test('state saved mid-pass (through JSON) resumes with identical batches', () => {
    for (const stop of [0, 2, 3, 4, 6]) {
      const a = new BatchLoader(set, 3, 11);
      for (let s = 0; s < stop; s++) a.next();
      const saved = JSON.parse(JSON.stringify(a.getState())) as BatchLoaderState;
      const expected = Array.from({ length: 10 }, () => a.next());
      const b = new BatchLoader(set, 3, 999); // different seed: the state must override it
      b.setState(saved);
      const got = Array.from({ length: 10 }, () => b.next());
      assert.deepEqual(got, expected, `resume after ${stop} batches`);
    }
  });

  test('a state for other data or batch size is refused with CheckpointError', () => {
    const a = new BatchLoader(set, 3, 1);
    const st = a.getState();
    assert.throws(() => new BatchLoader(set, 4, 1).setState(st), CheckpointError);
    assert.throws(() => new BatchLoader(set.map((v) => v + 1), 3, 1).setState(st), (e: unknown) => e instanceof CheckpointError && /indexHash/.test(e.message));
    assert.throws(() => a.setState({ ...st, position: 99 }), CheckpointError);
    assert.throws(() => a.setState({ ...st, rngState: [1, 2] as never }), CheckpointError);
  });

  test('draws one permutation per pass, not per step', () => {
    const rng = new Rng(3);
    let calls = 0;
    const orig = rng.permutation.bind(rng);
    rng.permutation = (n: number) => {
      calls++;
      return orig(n);
    };
    const l = new BatchLoader(Int32Array.from({ length: 25000 }, (_, i) => i), 64, rng);
    assert.equal(l.stepsPerEpoch, 391);
    for (let s = 0; s < 391 * 2; s++) l.next();
    assert.equal(calls, 2);
  });
});

describe('RandomBatchSampler', () => {
  const val = Int32Array.from({ length: 20 }, (_, i) => 50 + i);

  test('each batch: distinct indices from the set; successive batches independent', () => {
    const s = new RandomBatchSampler(val, 8, 5);
    const a = s.next();
    const b = s.next();
    for (const x of [a, b]) {
      assert.equal(x.length, 8);
      assert.equal(new Set(x).size, 8);
      assert.ok(x.every((v) => v >= 50 && v < 70));
    }
    assert.notDeepEqual(a, b);
    assert.equal(new RandomBatchSampler(val.subarray(0, 5), 8, 0).next().length, 5);
  });

  test('marginals are uniform (every index in about batch/n of the draws)', () => {
    const s = new RandomBatchSampler(Int32Array.from({ length: 10 }, (_, i) => i), 4, 2);
    const counts = new Array(10).fill(0);
    const first = new Array(10).fill(0);
    const T = 3000;
    for (let t = 0; t < T; t++) {
      const b = s.next();
      b.forEach((v) => counts[v]++);
      first[b[0]!]++;
    }
    for (const c of counts) assert.ok(Math.abs(c - T * 0.4) < 120, `count ${c}`);
    for (const c of first) assert.ok(Math.abs(c - T * 0.1) < 80, `first ${c}`);
  });

  test('state restores exactly through JSON', () => {
    const s = new RandomBatchSampler(val, 6, 8);
    s.next();
    s.next();
    const st = JSON.parse(JSON.stringify(s.getState()));
    const expected = Array.from({ length: 5 }, () => s.next());
    const t = new RandomBatchSampler(val, 6, 0);
    t.setState(st);
    assert.deepEqual(Array.from({ length: 5 }, () => t.next()), expected);
    assert.throws(() => new RandomBatchSampler(val, 7, 0).setState(st), CheckpointError);
  });
});
