/**
 * Progress display for long work: a live bar on a TTY (cli-progress), plain lines otherwise
 * (CI, files, pipes). Everything goes to stderr so stdout stays machine-readable.
 */
import cliProgress from 'cli-progress';
import type { SearchEvent } from '../search/trainer.js';
import { readEnv } from '../util/env.js';

export interface ProgressOptions {
  quiet?: boolean;
  /** plain mode: print a line every this many steps (default: about 4 per epoch) */
  logEvery?: number;
}

export function searchProgress(o: ProgressOptions = {}): (e: SearchEvent) => void {
  if (o.quiet) return () => {};
  const tty = process.stderr.isTTY && !readEnv().plainProgress;
  let bar: cliProgress.SingleBar | null = null;
  let epochs = 0;
  const out = (s: string): void => {
    process.stderr.write(s + '\n');
  };
  const fmt = (x: number, d = 4): string => (Number.isFinite(x) ? x.toFixed(d) : String(x));
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
        break;
      case 'epoch':
        if (bar) {
          bar.stop();
          bar = null;
        }
        out(
          `epoch ${e.epoch}${e.iteration ? ` (ADA iteration ${e.iteration})` : ''}: train loss ${fmt(e.train.loss)} acc ${fmt(e.train.acc, 3)} | valid loss ${fmt(e.valid.loss)} acc ${fmt(e.valid.acc, 3)} | ${e.seconds.toFixed(1)} s`,
        );
        out(`  genotype: ${e.genotype}`);
        break;
      case 'note':
        if (bar) {
          bar.stop();
          bar = null;
        }
        out(`  ${e.message}`);
        break;
    }
  };
}
