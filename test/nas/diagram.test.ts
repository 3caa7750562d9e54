import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DARTS_V2, genotypeToDot, parseGenotypeRepr, renderCellsSvg, renderGenotypeSvg } from '../../src/nas/index.js';

test('DOT: inputs, nodes, one labelled edge per gene, concat into c_{k}', () => {
  const dot = genotypeToDot(DARTS_V2, 'normal');
  assert.match(dot, /^digraph normal_cell \{/);
  assert.match(dot, /rankdir=LR/);
  assert.match(dot, /c_km2 \[label="c_\{k-2\}"/);
  assert.match(dot, /c_km1 \[label="c_\{k-1\}"/);
  assert.equal((dot.match(/ -> n\d \[label=/g) ?? []).length, 8);
  assert.match(dot, /c_km2 -> n0 \[label="sep_conv_3x3"/);
  assert.match(dot, /n0 -> n3 \[label="dil_conv_3x3"/);
  for (const i of [0, 1, 2, 3]) assert.match(dot, new RegExp(`n${i} -> c_k \\[`));
  const red = genotypeToDot(DARTS_V2, 'reduce');
  assert.match(red, /c_km1 -> n0 \[label="max_pool_3x3"/);
  assert.doesNotMatch(red, /sep_conv_3x3/);
});

test('SVG rendering via wasm Graphviz contains the op names', async () => {
  const svg = await renderGenotypeSvg(DARTS_V2, 'normal');
  assert.match(svg, /<svg[\s>]/);
  assert.match(svg, /sep_conv_3x3/);
  assert.match(svg, /dil_conv_3x3/);
  assert.match(svg, /c_\{k&#45;2\}|c_\{k-2\}/);
  const g = parseGenotypeRepr(
    "Genotype(normal=[('noise', 0), ('sep_conv_3x3', 1), ('noise', 2), ('noise', 0), ('noise', 1), ('noise', 3), ('noise', 4), ('noise', 0)], normal_concat=[2, 3, 4, 5], reduce=[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])",
  );
  const both = await renderCellsSvg(g);
  assert.match(both.normal, /noise/);
  assert.doesNotMatch(both.normal, /max_pool_3x3/);
  assert.match(both.reduce, /avg_pool_3x3/);
  assert.match(both.reduce, /reduce cell/);
});
