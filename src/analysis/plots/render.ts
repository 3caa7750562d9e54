/**
 * `renderSvg` compiles a Vega-Lite spec with vega-lite and renders it to SVG text with vega's
 * headless view (renderer 'none' + toSVG: no browser and no `canvas` package; text widths are
 * estimated). The only module of the figures that runs vega.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Compile a Vega-Lite spec and render it to standalone SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega-lite's compile warnings (e.g. about scale choices) are not the user's business here
  const vg = compile(spec, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
