/**
 * Recurrent cell diagrams in the style of the DARTS figure (DARTS `rnn/visualize.py`): x_t and
 * h_{t−1} feed state 0, one labelled edge per gene, the averaged states feed h_t, left to right.
 * DOT text here; SVG from Graphviz compiled to wasm, as the CNN cells (nas/diagram.ts).
 */
import { Graphviz } from '@hpcc-js/wasm-graphviz';
import type { RnnGenotype } from './genotype.js';

function quote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Graphviz DOT source of a recurrent cell. */
export function rnnGenotypeToDot(g: RnnGenotype, title = 'recurrent cell'): string {
  const steps = g.recurrent.length;
  const lines: string[] = [];
  lines.push('digraph recurrent_cell {');
  lines.push('  rankdir=LR;');
  lines.push(`  label=${quote(title)}; labelloc=t; fontname="Helvetica";`);
  lines.push('  node [style="rounded,filled", shape=rect, fontname="Helvetica", fontsize=20, height=0.5, width=0.5, penwidth=2];');
  lines.push('  edge [fontname="Helvetica", fontsize=16, penwidth=1.5];');
  lines.push('  x_t [label="x_{t}", fillcolor=darkseagreen2];');
  lines.push('  h_prev [label="h_{t-1}", fillcolor=darkseagreen2];');
  lines.push('  { rank=same; x_t; h_prev; }');
  for (let i = 0; i <= steps; i++) lines.push(`  n${i} [label="${i}", fillcolor=lightblue];`);
  lines.push('  h_t [label="h_{t}", fillcolor=palegoldenrod];');
  lines.push('  x_t -> n0 [fillcolor=gray];');
  lines.push('  h_prev -> n0 [fillcolor=gray];');
  g.recurrent.forEach(([op, j], i) => lines.push(`  n${j} -> n${i + 1} [label=${quote(op)}, fillcolor=gray];`));
  for (const s of g.concat) lines.push(`  n${s} -> h_t [fillcolor=gray];`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

let graphvizPromise: Promise<Graphviz> | undefined;

/** SVG text of a recurrent cell (Graphviz `dot` layout). */
export async function renderRnnGenotypeSvg(g: RnnGenotype, title?: string): Promise<string> {
  graphvizPromise ??= Graphviz.load();
  return (await graphvizPromise).dot(rnnGenotypeToDot(g, title));
}
