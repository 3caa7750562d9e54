import { dropPathProb, cutoutProb } from './schedules.js';
import type { EpochContext, EpochStartControls, SearchPlugin } from '../plugin.js';

/**
 * The drop-path/cutout schedule every method runs with (R-DARTS(DP) is DARTS with p_max > 0;
 * docs/search.md#drop-path-and-cutout-ramps): ScheduledDropPath on every mixed-edge output with p(e) = p_max·e/(E−1), and
 * cutout whose probability follows the same ramp 0 → 1. The schedules: ./schedules.ts.
 */
export class RegularizationSchedule implements SearchPlugin {
  readonly name = 'regularization';
  constructor(
    readonly dropPathMax: number,
    readonly cutout: boolean,
  ) {}
  onEpochStart(ctx: EpochContext, c: EpochStartControls): void {
    c.dropPath = this.dropPathMax > 0 ? dropPathProb(ctx.epoch, ctx.epochs, this.dropPathMax) : 0;
    c.cutoutProb = cutoutProb(ctx.epoch, ctx.epochs, this.cutout);
  }
}
