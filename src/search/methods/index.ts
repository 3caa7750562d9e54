/**
 * A method is the bilevel trainer plus plug-ins (paper names):
 * - darts: the trainer (+ the Hessian monitor when hessian.every > 0)
 * - darts-es: + Hessian monitor + early stop (stop mode)
 * - darts-ada: + Hessian monitor + early stop (signal mode) + adaptive L2 with rollbacks
 * - rdarts-l2 / rdarts-dp: a grid of darts searches over L2 / drop-path values (experiments/grid.ts)
 * - rs-ws: random search with weight sharing (rsws.ts)
 * SDARTS-RS/ADV (sdarts.ts ← sdarts-perturb.ts, config sdarts.mode) perturb the weight step's
 * edge weights and compose with darts, darts-es and darts-ada.
 * The collapse monitor (collapse-monitor.ts, config analysis.collapse) logs its indicators beside
 * λ_max; the skip-count early stop (collapse-stop.ts, config collapseStop) composes like DARTS-ES.
 * Every method gets the drop-path/cutout schedule of its configuration; the DARTS-family methods
 * also the discretisation-drop monitor (config `analysis.discretization`, discretization.ts, docs/methods.md#discretisation-drop).
 *
 * Each plug-in sits beside the pure rule it drives: es.ts ← es-rules.ts, ada.ts ←
 * ada-controller.ts, rsws.ts ← rsws-sampler.ts, regularization.ts ← schedules.ts; the Hessian
 * monitor's maths is analysis/hessian.ts.
 */
import { collapseMonitorOn, cutoutOn, hessianEvery, type SearchConfig } from '../config.js';
import type { SearchPlugin } from '../plugin.js';
import { RegularizationSchedule } from './regularization.js';
import { HessianMonitor, hessianMonitorOptions } from './hessian-monitor.js';
import { EarlyStopPlugin, earlyStopOptions } from './es.js';
import { AdaPlugin } from './ada.js';
import { DiscretizationMonitor } from './discretization.js';
import { RsWsPlugin } from './rsws.js';
import { CollapseMonitor } from './collapse-monitor.js';
import { CollapseStopPlugin, parseCollapseStop } from './collapse-stop.js';
import { SdartsPlugin } from './sdarts.js';
import { S5RegretPlugin } from './s5-regret.js';
import type { TruthTable } from '../../analysis/s5.js';

/** Data some plug-ins need that the configuration only names (read by experiments/). */
export interface PluginInputs {
  /** the S5 ground-truth table of cfg.s5Truth */
  s5Truth?: TruthTable | null;
}

export function buildPlugins(cfg: SearchConfig, inputs: PluginInputs = {}): SearchPlugin[] {
  const plugins: SearchPlugin[] = [new RegularizationSchedule(cfg.dropPath, cutoutOn(cfg))];
  const every = hessianEvery(cfg);
  if (every > 0 && cfg.method !== 'rs-ws') {
    plugins.push(
      new HessianMonitor(hessianMonitorOptions(cfg, every)),
    );
  }
  const sd = cfg.sdarts;
  const sdMode = sd.mode;
  if (sdMode !== 'off' && cfg.method !== 'rs-ws') {
    const s = sd;
    plugins.push(new SdartsPlugin({ mode: sdMode, epsilon: s.epsilon, epsilonStart: s.epsilonStart, steps: s.steps, randomStart: s.randomStart, seed: cfg.seed }));
  }
  if (collapseMonitorOn(cfg)) plugins.push(new CollapseMonitor());
  if (inputs.s5Truth) plugins.push(new S5RegretPlugin(inputs.s5Truth, cfg.method !== 'rs-ws'));
  const es = cfg.earlyStop;
  const esOptions = earlyStopOptions(es, every, cfg.epochs);
  if (cfg.method === 'darts-es') plugins.push(new EarlyStopPlugin(es.rule, esOptions, 'stop'));
  // the skip-count rule composes like the eigenvalue rule: it stops darts/darts-es, signals ADA
  const collapseStop = cfg.collapseStop !== null && cfg.method !== 'rs-ws' ? parseCollapseStop(cfg.collapseStop, 'collapseStop') : null;
  if (collapseStop && cfg.method !== 'darts-ada') plugins.push(new CollapseStopPlugin(collapseStop, 'stop'));
  if (cfg.method === 'darts-ada') {
    plugins.push(new EarlyStopPlugin(es.rule, esOptions, 'signal'));
    if (collapseStop) plugins.push(new CollapseStopPlugin(collapseStop, 'signal'));
    plugins.push(new AdaPlugin({ l2Init: cfg.weightDecay, eta: cfg.ada.eta, l2Max: cfg.ada.l2Max }));
  }
  if (cfg.method === 'rs-ws') {
    plugins.push(new RsWsPlugin({ seed: cfg.seed, samples: cfg.rsws.samples, scoreBatches: cfg.rsws.scoreBatches, topK: cfg.rsws.topK }));
  } else if (cfg.analysis.discretization !== 'off') {
    // rs-ws never moves α (uniform): its "drop" would say nothing about the search
    plugins.push(new DiscretizationMonitor({ when: cfg.analysis.discretization, hessianEvery: every }));
  }
  return plugins;
}
