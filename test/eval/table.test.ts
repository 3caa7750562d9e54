/**
 * `rdarts table` on constructed results: the paper's layout (rows dataset × space in the paper's
 * order, the six method columns), best and second best marked per row, several runs of one cell
 * as mean ± std, missing cells shown as missing; reading select / train folders; the four formats.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildTable, tableToCsv, tableToHtml, tableToJson, tableToMarkdown, type TableEntry } from '../../src/analysis/table.js';
import { collectTableEntries } from '../../src/experiments/table-input.js';
import { formatGenotypeRepr, getPublishedGenotype } from '../../src/nas/index.js';
import { cli, tempDir } from './helpers.js';

const e = (dataset: string, space: string, method: TableEntry['method'], testError: number, source = `${dataset}/${space}/${method}`): TableEntry => ({ dataset, space, method, testError, source });

const ENTRIES: TableEntry[] = [
  e('svhn', 's1', 'darts', 0.0458),
  e('cifar10', 's2', 'darts', 0.0485),
  e('cifar10', 's2', 'rdarts-l2', 0.0331),
  e('cifar10', 's1', 'rs-ws', 0.0323),
  e('cifar10', 's1', 'darts', 0.0384),
  e('cifar10', 's1', 'rdarts-dp', 0.0311),
  e('cifar10', 's1', 'rdarts-l2', 0.0278),
  e('cifar10', 's1', 'darts-es', 0.0301),
  e('cifar10', 's1', 'darts-ada', 0.0310),
  // two DARTS-ES runs on S2: mean ± std
  e('cifar10', 's2', 'darts-es', 0.03, 'a'),
  e('cifar10', 's2', 'darts-es', 0.04, 'b'),
];

test('buildTable: paper row order, the six columns, best/second marks, mean ± std, missing cells stay missing', () => {
  const t = buildTable(ENTRIES);
  assert.deepEqual(t.columns, ['rs-ws', 'darts', 'rdarts-dp', 'rdarts-l2', 'darts-es', 'darts-ada']);
  assert.deepEqual(t.rows.map((r) => `${r.dataset}/${r.space}`), ['cifar10/s1', 'cifar10/s2', 'svhn/s1']);
  const s1 = t.rows[0]!.cells;
  assert.equal(s1['rdarts-l2']!.mark, 'best');
  assert.equal(s1['darts-es']!.mark, 'second');
  assert.equal(s1.darts!.mark, null);
  assert.ok(Math.abs(s1['rdarts-l2']!.value - 2.78) < 1e-9);
  const s2 = t.rows[1]!.cells;
  assert.equal(s2['rs-ws'], null);
  assert.equal(s2['darts-es']!.n, 2);
  assert.ok(Math.abs(s2['darts-es']!.value - 3.5) < 1e-9);
  assert.ok(Math.abs(s2['darts-es']!.std! - Math.sqrt(0.5)) < 1e-9);
  assert.equal(s2['rdarts-l2']!.mark, 'best');
  assert.equal(s2['darts-es']!.mark, 'second');
  // a row with one value: it is the best, nothing is second
  assert.equal(t.rows[2]!.cells.darts!.mark, 'best');
  // ties share the mark
  const tie = buildTable([e('cifar10', 's3', 'darts', 0.03), e('cifar10', 's3', 'rs-ws', 0.03), e('cifar10', 's3', 'darts-es', 0.04)]);
  assert.deepEqual(['darts', 'rs-ws', 'darts-es'].map((m) => tie.rows[0]!.cells[m as 'darts']!.mark), ['best', 'best', 'second']);
  assert.throws(() => buildTable([e('cifar10', 's1', 'darts', 3.84)]), /not a fraction/);
});

test('renderers: Markdown marks and dashes, CSV one line per cell with missing ones, JSON, HTML classes', () => {
  const t = buildTable(ENTRIES);
  const md = tableToMarkdown(t);
  const lines = md.split('\n');
  assert.equal(lines[0], '| data | space | RS-ws | DARTS | R-DARTS(DP) | R-DARTS(L2) | DARTS-ES | DARTS-ADA |');
  assert.equal(lines[2], '| C10 | S1 | 3.23 | 3.84 | 3.11 | **2.78** | _3.01_ | 3.10 |');
  assert.equal(lines[3], '| C10 | S2 | — | 4.85 | — | **3.31** | _3.50 ± 0.71_ | — |');
  assert.equal(lines[4], '| SVHN | S1 | — | **4.58** | — | — | — | — |');
  const csv = tableToCsv(t).trim().split('\n');
  assert.equal(csv.length, 1 + 3 * 6);
  assert.equal(csv[0], 'dataset,space,method,test_error,std,n,mark,sources');
  assert.ok(csv.includes('cifar10,s2,RS-ws,,,0,missing,'));
  assert.ok(csv.includes('cifar10,s2,DARTS-ES,3.5000,0.7071,2,second,a;b'));
  const j = JSON.parse(tableToJson(t));
  assert.equal(j.rows[1].cells['rs-ws'], null);
  assert.equal(j.rows[0].cells['rdarts-l2'].mark, 'best');
  const html = tableToHtml(t, { figures: [{ title: 'x', svg: '<svg></svg>' }] });
  assert.match(html, /<td class="best" title="1 run\(s\): cifar10\/s1\/rdarts-l2">2\.78<\/td>/);
  assert.equal((html.match(/class="missing"/g) ?? []).length, 3 * 6 - ENTRIES.length + 1);
  assert.match(html, /<figure><figcaption>x<\/figcaption><svg><\/svg><\/figure>/);
});

test('collectTableEntries + rdarts table: select folders and train folders below a directory; unplaceable ones skipped with the reason', { timeout: 60_000 }, async () => {
  const dir = tempDir('table');
  try {
    const repr = formatGenotypeRepr(getPublishedGenotype('DARTS_V2'));
    const sel = join(dir.path, 'runs', 'sel-l2');
    mkdirSync(sel, { recursive: true });
    writeFileSync(join(sel, 'select.json'), '{}');
    writeFileSync(join(sel, 'result.json'), JSON.stringify({ kind: 'select', dataset: 'cifar10', space: 's1', method: 'rdarts-l2', selectedTestError: 0.0278, selectedRepr: repr }));
    mkdirSync(join(sel, 'final'));
    writeFileSync(join(sel, 'final', 'config.json'), JSON.stringify({ kind: 'train', dataset: 'cifar10', space: 's1', searchMethod: 'darts' }));
    writeFileSync(join(sel, 'final', 'result.json'), JSON.stringify({ kind: 'train', split: 'test', testError: 0.5, repr }));
    const tr = join(dir.path, 'runs', 'train-darts');
    mkdirSync(tr, { recursive: true });
    writeFileSync(join(tr, 'config.json'), JSON.stringify({ kind: 'train', dataset: 'cifar10', space: 's1', searchMethod: 'darts' }));
    writeFileSync(join(tr, 'result.json'), JSON.stringify({ kind: 'train', split: 'test', testError: 0.0384, repr }));
    const unknown = join(dir.path, 'runs', 'train-published');
    mkdirSync(unknown, { recursive: true });
    writeFileSync(join(unknown, 'config.json'), JSON.stringify({ kind: 'train', dataset: 'cifar10', space: null, searchMethod: null }));
    writeFileSync(join(unknown, 'result.json'), JSON.stringify({ kind: 'train', split: 'test', testError: 0.03 }));
    const inp = collectTableEntries([join(dir.path, 'runs')]);
    assert.deepEqual(inp.entries.map((x) => `${x.method}:${x.testError}`).sort(), ['darts:0.0384', 'rdarts-l2:0.0278'], 'the select folder\'s inner final/ run must not count again');
    assert.equal(inp.skipped.length, 1);
    assert.match(inp.skipped[0]!, /train-published: the search space is unknown, the search method is unknown/);

    const out = join(dir.path, 'table');
    const r = await cli(['table', join(dir.path, 'runs'), '--out', out, '--format', 'markdown']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| C10 \| S1 \| — \| _3\.84_ \| — \| \*\*2\.78\*\* \| — \| — \|/);
    assert.match(r.stderr, /skipped .*train-published/);
    for (const f of ['table.md', 'table.csv', 'table.json', 'table.html']) assert.ok(readFileSync(join(out, f), 'utf8').length > 0, f);
    assert.match(readFileSync(join(out, 'table.html'), 'utf8'), /normal cell<\/figcaption><svg/);
  } finally {
    dir.cleanup();
  }
});
