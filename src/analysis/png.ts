import { Resvg } from '@resvg/resvg-js';

/**
 * Rasterise an SVG figure to PNG (resvg: no browser, no canvas). Text uses the system fonts
 * (setup installs fonts-dejavu-core); the background is white so the PNG reads on any viewer.
 */
export function svgToPng(svg: string, scale = 2): Buffer {
  const r = new Resvg(svg, {
    background: 'white',
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
