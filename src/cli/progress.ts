/**
 * Progress display for long work: a live bar on a TTY (cli-progress), plain lines otherwise
 * (CI, files, pipes). Everything goes to stderr so stdout stays machine-readable.
 */
import cliProgress from 'cli-progress';
import type { SearchEvent } from '../search/trainer.js';
import type { EvalEvent } from '../search/eval-trainer.js';
import { readEnv } from '../util/env.js';

export interface ProgressOptions {
  quiet?: boolean;
  /** plain mode: print a line every this many steps (default: about 4 per epoch) */
  logEvery?: number;
}

/** The step events both a search and a training report. */
interface StepEvent {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  acc: number;
  lr: number;
}

const fmt = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));

/**
 * The machinery both displays share: `out` prints a line on stderr, `line` closes the bar first,
 * `step` draws the bar of the current epoch on a TTY and otherwise prints a plain line every
 * `logEvery` steps; `epochs` is the total the bar shows.
 */
function stepDisplay(o: ProgressOptions): { out: (s: string) => void; line: (s: string) => void; step: (e: StepEvent, epochs: number) => void } {
  const tty = process.stderr.isTTY && !readEnv().plainProgress;
  let bar: cliProgress.SingleBar | null = null;
  const out = (s: string): void => {
    process.stderr.write(s + '\n');
  };
  return {
    out,
    line: (s) => {
      if (bar) {
        bar.stop();
        bar = null;
      }
      out(s);
    },
    step: (e, epochs) => {
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { format: ' epoch {ep} [{bar}] {value}/{total} steps | loss {loss} | acc {acc} | lr {lr} | eta {eta_formatted}', hideCursor: true, clearOnComplete: true },
            cliProgress.Presets.shades_classic,
          );
          bar.start(e.steps, 0, { ep: `${e.epoch + 1}/${epochs}`, loss: '-', acc: '-', lr: '-' });
        }
        bar.update(e.step + 1, { ep: `${e.epoch + 1}/${epochs}`, loss: fmt(e.loss), acc: fmt(e.acc, 3), lr: e.lr.toExponential(2) });
      } else {
        const every = o.logEvery ?? Math.max(1, Math.ceil(e.steps / 4));
        if ((e.step + 1) % every === 0 || e.step + 1 === e.steps) {
          out(`epoch ${e.epoch} step ${e.step + 1}/${e.steps} loss ${fmt(e.loss)} acc ${fmt(e.acc, 3)} lr ${e.lr.toExponential(3)}`);
        }
      }
    },
  };
}

export function searchProgress(o: ProgressOptions = {}): (e: SearchEvent) => void {
  if (o.quiet) return () => {};
  const { out, line, step } = stepDisplay(o);
  let epochs = 0;
  return (e) => {
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        out(
          `search: ${e.epochs} epochs × ${e.stepsPerEpoch} steps, ${e.parameters.toLocaleString('en-US')} weights, ${e.alphas} architecture weights` +
            (e.resumedFrom !== null ? ` (resumed after epoch ${e.resumedFrom})` : ''),
        );
        break;
      case 'step':
        step(e, epochs);
        break;
      case 'epoch':
        line(
          `epoch ${e.epoch}${e.iteration ? ` (ADA iteration ${e.iteration})` : ''}: train loss ${fmt(e.train.loss)} acc ${fmt(e.train.acc, 3)} | valid loss ${fmt(e.valid.loss)} acc ${fmt(e.valid.acc, 3)} | ${e.seconds.toFixed(1)} s`,
        );
        out(`  genotype: ${e.genotype}`);
        break;
      case 'note':
        line(`  ${e.message}`);
        break;
    }
  };
}

/** Progress of a training (the evaluation network) on stderr: a bar on a TTY, plain lines otherwise. */
export function trainProgress(o: ProgressOptions = {}): (e: EvalEvent) => void {
  if (o.quiet) return () => {};
  const { out, line, step } = stepDisplay(o);
  let epochs = 0;
  return (e) => {
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        out(
          `train: ${e.epochs} epochs × ${e.stepsPerEpoch} steps, ${e.parameters.toLocaleString('en-US')} parameters (${e.parametersWithAux.toLocaleString('en-US')} with the auxiliary head)` +
            (e.resumedFrom !== null ? ` (resumed after epoch ${e.resumedFrom})` : ''),
        );
        break;
      case 'step':
        step(e, epochs);
        break;
      case 'epoch': {
        const ev = e.evaluation ? ` | ${e.evaluation.split} loss ${fmt(e.evaluation.loss)} acc ${fmt(e.evaluation.acc, 3)}` : '';
        line(`epoch ${e.epoch}: train loss ${fmt(e.train.loss)} acc ${fmt(e.train.acc, 3)}${ev} | drop path ${e.dropPath.toFixed(3)} | ${e.seconds.toFixed(1)} s`);
        break;
      }
      case 'note':
        line(`  ${e.message}`);
        break;
    }
  };
}
