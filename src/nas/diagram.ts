/**
 * Cell diagrams in the style of the DARTS paper figures: inputs c_{k-2}, c_{k-1} on the left,
 * intermediate nodes 0..n-1, one labelled edge per gene, and the output c_{k} collecting the
 * concat states, laid out left to right. DOT text is built here; SVG comes from Graphviz compiled
 * to wasm (@hpcc-js/wasm-graphviz), so no system install is needed.
 */
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import type { Genotype } from './genotype.js';
import { geneNode, type CellType } from './spaces.js';

function nodeId(state: number): string {
  return state === 0 ? 'c_km2' : state === 1 ? 'c_km1' : `n${state - 2}`;
}

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Graphviz DOT source of one cell of `g`. */
export function genotypeToDot(g: Genotype, cellType: CellType): string {
  const genes = cellType === 'normal' ? g.normal : g.reduce;
  const concat = cellType === 'normal' ? g.normalConcat : g.reduceConcat;
  const steps = genes.length / 2;
  const lines: string[] = [];
  lines.push(`digraph ${cellType}_cell {`);
  lines.push('  rankdir=LR;');
  lines.push(`  label=${quote(`${cellType} cell`)}; labelloc=t; fontname="Helvetica";`);
  lines.push('  node [style="rounded,filled", shape=rect, fontname="Helvetica", fontsize=20, height=0.5, width=0.5, penwidth=2];');
  lines.push('  edge [fontname="Helvetica", fontsize=16, penwidth=1.5];');
  lines.push('  c_km2 [label="c_{k-2}", fillcolor=darkseagreen2];');
  lines.push('  c_km1 [label="c_{k-1}", fillcolor=darkseagreen2];');
  lines.push('  { rank=same; c_km2; c_km1; }');
  for (let i = 0; i < steps; i++) lines.push(`  n${i} [label="${i}", fillcolor=lightblue];`);
  lines.push('  c_k [label="c_{k}", fillcolor=palegoldenrod];');
  genes.forEach(([op, j], idx) => {
    const node = geneNode(idx);
    lines.push(`  ${nodeId(j)} -> n${node} [label=${quote(op)}, fillcolor=gray];`);
  });
  for (const s of concat) lines.push(`  ${nodeId(s)} -> c_k [fillcolor=gray];`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

let graphvizPromise: Promise<Graphviz> | undefined;

function graphviz(): Promise<Graphviz> {
  graphvizPromise ??= Graphviz.load();
  return graphvizPromise;
}

/** SVG text of one cell (Graphviz `dot` layout). */
export async function renderGenotypeSvg(g: Genotype, cellType: CellType): Promise<string> {
  const gv = await graphviz();
  return gv.dot(genotypeToDot(g, cellType));
}

/** SVG text of both cells. */
export async function renderCellsSvg(g: Genotype): Promise<{ normal: string; reduce: string }> {
  return { normal: await renderGenotypeSvg(g, 'normal'), reduce: await renderGenotypeSvg(g, 'reduce') };
}
