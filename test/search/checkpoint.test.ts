/**
 * Corrupt checkpoints are detected and never loaded: a flipped byte in the newest tensor file
 * makes resume fall back to the previous checkpoint (with a note) and still reach bitwise the same
 * result; all checkpoints corrupt → a CheckpointError; a truncated state.json → a CheckpointError
 * naming the folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { CheckpointError } from '../../src/errors.js';
import { runSearch, resumeSearch } from '../../src/experiments/search-run.js';
import { checkpointPath, listCheckpoints, loadCheckpoint, loadLatestCheckpoint } from '../../src/experiments/checkpoint.js';
import type { SearchEvent } from '../../src/search/trainer.js';
import { checkpointValues, readJsonl, sameBits, tinyConfig, tinyData } from './helpers.js';

pinTestThreads();

function flipByte(file: string, at: number): void {
  const b = readFileSync(file);
  const i = at < 0 ? b.length + at : at;
  b[i] = b[i]! ^ 0x40;
  writeFileSync(file, b);
}

async function errorOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => null,
    (e: unknown) => e,
  );
}

test('a flipped byte in the newest checkpoint: resume skips it with a note, continues from the previous one and ends bitwise where the uninterrupted run ended', async () => {
  const dir = tempDir('corrupt');
  try {
    const cfg = tinyConfig({ epochs: 3, keepCheckpoints: 2 });
    const out = join(dir.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const root = join(out, 'checkpoints');
    assert.deepEqual(listCheckpoints(root), [1, 2]);
    const final = checkpointValues(root, 2);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');

    // a byte in the middle of the tensor data (past the JSON header)
    flipByte(join(checkpointPath(root, 2), 'tensors.safetensors'), -17);
    assert.throws(() => loadCheckpoint(root, 2), (e: unknown) => e instanceof CheckpointError && /epoch-0002/.test(e.message) && /SHA-256/.test(e.message));

    const notes: string[] = [];
    let resumedFrom: number | null | undefined;
    await resumeSearch(out, {
      data: tinyData(cfg),
      onEvent: (e: SearchEvent) => {
        if (e.type === 'note') notes.push(e.message);
        if (e.type === 'start') resumedFrom = e.resumedFrom;
      },
    });
    assert.ok(
      notes.some((n) => /skipping checkpoint of epoch 2/.test(n) && /corrupt/.test(n)),
      `expected a note about the skipped checkpoint, got: ${notes.join(' | ')}`,
    );
    assert.equal(resumedFrom, 1, 'resume should continue after epoch 1');
    // epoch 2 was re-run from epoch 1's checkpoint: same tensors, bit for bit, and the same log
    const again = checkpointValues(root, 2);
    assert.deepEqual([...again.values.keys()].sort(), [...final.values.keys()].sort());
    for (const [name, v] of final.values) assert.ok(sameBits(again.values.get(name)!.data, v.data), `${name} differs after resuming from the previous checkpoint`);
    const strip = (s: string) => parseJsonl(s).map(({ seconds: _s, ...rest }) => rest);
    assert.deepEqual(strip(readFileSync(join(out, 'metrics.jsonl'), 'utf8')), strip(metrics));
  } finally {
    dir.cleanup();
  }
});

function parseJsonl(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('every checkpoint corrupt: resume stops with a CheckpointError naming the folder and loads nothing', async () => {
  const dir = tempDir('corrupt-all');
  try {
    const cfg = tinyConfig({ epochs: 2, keepCheckpoints: 2 });
    const out = join(dir.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const root = join(out, 'checkpoints');
    for (const e of listCheckpoints(root)) flipByte(join(checkpointPath(root, e), 'tensors.safetensors'), -5);
    const skipped: number[] = [];
    assert.throws(
      () => loadLatestCheckpoint(root, (e) => skipped.push(e)),
      (e: unknown) => e instanceof CheckpointError && /checkpoints\/epoch-000\d is corrupt/.test(e.message),
    );
    assert.deepEqual(skipped, [1, 0]);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const err = await errorOf(resumeSearch(out, { data: tinyData(cfg) }));
    assert.ok(err instanceof CheckpointError, `expected CheckpointError, got ${String(err)}`);
    assert.match(err.message, /epoch-000\d/);
    // nothing was cut or rewritten
    assert.equal(readFileSync(join(out, 'metrics.jsonl'), 'utf8'), metrics);
  } finally {
    dir.cleanup();
  }
});

test('a truncated state.json is a CheckpointError naming the checkpoint folder; resume falls back past it', async () => {
  const dir = tempDir('trunc');
  try {
    const cfg = tinyConfig({ epochs: 3, keepCheckpoints: 3 });
    const out = join(dir.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const root = join(out, 'checkpoints');
    const statePath = join(checkpointPath(root, 2), 'state.json');
    const text = readFileSync(statePath, 'utf8');
    writeFileSync(statePath, text.slice(0, Math.floor(text.length / 2)));
    assert.throws(
      () => loadCheckpoint(root, 2),
      (e: unknown) => e instanceof CheckpointError && e.message.includes(checkpointPath(root, 2)) && /state\.json is not valid JSON/.test(e.message),
    );
    // a missing tensor file, too
    writeFileSync(join(checkpointPath(root, 1), 'tensors.safetensors'), Buffer.alloc(0));
    assert.throws(() => loadCheckpoint(root, 1), (e: unknown) => e instanceof CheckpointError && e.message.includes(checkpointPath(root, 1)));
    const ck = loadLatestCheckpoint<{ epoch: number }>(root);
    assert.equal(ck?.epoch, 0);
    for (const t of ck!.tensors.values()) t.dispose();
    // resume continues after epoch 0 and re-runs epochs 1 and 2
    let resumedFrom: number | null | undefined;
    const r = await resumeSearch(out, { data: tinyData(cfg), onEvent: (e) => void (e.type === 'start' && (resumedFrom = e.resumedFrom)) });
    assert.equal(resumedFrom, 0);
    assert.equal(r.epochsRun, 3);
    assert.deepEqual(
      readJsonl(join(out, 'metrics.jsonl'))
        .filter((l) => l.kind === 'epoch')
        .map((l) => l.epoch),
      [0, 1, 2],
    );
  } finally {
    dir.cleanup();
  }
});
