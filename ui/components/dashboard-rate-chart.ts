/**
 * A small live line chart (uPlot) for the dashboard: `data` is uPlot's aligned form [x seconds,
 * ...one array per series]. The canvas is decorative for screen readers: the element carries a
 * text summary (`summary`), and the dashboard prints the latest values next to it.
 *
 * uPlot's stylesheet is bundled into the app CSS (imported below), but document styles do not
 * reach into shadow roots: its rules are copied once into a constructed stylesheet adopted here
 * (allowed by the CSP, unlike an inline <style>). Colours come from the theme's tokens and are
 * re-read when the theme changes.
 */
import 'uplot/dist/uPlot.min.css';
import { css, html, LitElement, type PropertyValues } from 'lit';
import uPlot from 'uplot';
import { shared } from '../styles/theme.ts';

export type ChartSeries = { label: string; color: string };

let uplotSheet: CSSStyleSheet | null | undefined;

/** uPlot's rules from the document's stylesheets, as one adoptable sheet (null if not found). */
const uplotStyles = (): CSSStyleSheet | null => {
  if (uplotSheet !== undefined) return uplotSheet;
  const rules: string[] = [];
  for (const sheet of Array.from(document.styleSheets)) {
    let list: CSSRuleList;
    try { list = sheet.cssRules; } catch { continue; }
    for (const r of Array.from(list)) {
      if (r instanceof CSSStyleRule && /\.u(plot|-[a-z])/.test(r.selectorText)) rules.push(r.cssText);
    }
  }
  if (rules.length === 0) return null; // stylesheet not loaded yet: try again next time
  const s = new CSSStyleSheet();
  s.replaceSync(rules.join('\n'));
  uplotSheet = s;
  return s;
};

/** Seconds since the epoch → "14:03:07" in the viewer's time zone (24 h: short, unambiguous). */
const clock = (s: number): string => new Date(s * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });

const token = (name: string, fallback: string): string =>
  getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

export class DashboardRateChart extends LitElement {
  static override styles = [shared, css`
    :host { display: block; }
    .wrap { position: relative; min-height: 190px; }
    .empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; text-align: center; padding: 1rem; pointer-events: none; }
    .uplot { font-family: inherit; }
  `];

  static override properties = {
    data: { attribute: false },
    series: { attribute: false },
    format: { attribute: false },
    summary: {},
    emptyText: {},
    minMax: { type: Number },
  };
  declare data: [number[], ...(number | null)[][]];
  declare series: ChartSeries[];
  declare format: (v: number | null) => string;
  declare summary: string;
  declare emptyText: string;
  /** The y axis shows at least 0…minMax (an idle broker is a flat line at 0, not a zoom into noise). */
  declare minMax: number;

  private chart: uPlot | null = null;
  private resize: ResizeObserver | null = null;
  private themeWatch: MutationObserver | null = null;
  private media: MediaQueryList | null = null;

  constructor() {
    super();
    this.data = [[]];
    this.series = [];
    this.format = (v) => (v === null ? '—' : String(v));
    this.summary = '';
    this.emptyText = '';
    this.minMax = 1;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.themeWatch = new MutationObserver(() => this.rebuild());
    this.themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    this.media = window.matchMedia('(prefers-color-scheme: dark)');
    this.media.addEventListener('change', this.onMedia);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.themeWatch?.disconnect();
    this.media?.removeEventListener('change', this.onMedia);
    this.resize?.disconnect();
    this.resize = null;
    this.chart?.destroy();
    this.chart = null;
  }

  private readonly onMedia = () => this.rebuild();

  protected override firstUpdated(): void {
    const sheet = uplotStyles();
    const root = this.shadowRoot;
    if (sheet && root && !root.adoptedStyleSheets.includes(sheet)) root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    const wrap = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!wrap) return;
    this.resize = new ResizeObserver(() => {
      const w = Math.floor(wrap.clientWidth);
      if (this.chart && w > 0 && Math.abs(this.chart.width - w) > 1) this.chart.setSize({ width: w, height: this.chart.height });
    });
    this.resize.observe(wrap);
    this.rebuild();
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (!this.chart) return;
    if (changed.has('series') || changed.has('format') || changed.has('minMax')) this.rebuild();
    else if (changed.has('data')) this.chart.setData(this.data);
  }

  private rebuild(): void {
    const wrap = this.renderRoot.querySelector<HTMLElement>('.plot');
    if (!wrap) return;
    this.chart?.destroy();
    const fg = token('--fg-muted', '#5b6573');
    const grid = token('--border', '#e1e4e8');
    const fmt = this.format;
    const opts: uPlot.Options = {
      width: Math.max(200, Math.floor(wrap.clientWidth)),
      height: 190,
      series: [
        { label: 'Time', value: (_u: uPlot, v: number | null) => (v === null ? '—' : clock(v)) },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: token(s.color, '#2f5fd0'),
          width: 2,
          spanGaps: false,
          points: { show: true, size: 4 },
          value: (_u: uPlot, v: number | null) => fmt(v),
        })),
      ],
      scales: {
        // At least a minute wide, so one point is not drawn across a span of years.
        x: {
          time: true,
          range: (u, min, max) => {
            const xs = u.data[0];
            const lo = xs[0];
            const hi = xs[xs.length - 1];
            if (lo === undefined || hi === undefined) return [min, max];
            return hi - lo < 60 ? [hi - 60, hi + 1] : [lo, hi];
          },
        },
        // From 0, with some room above the highest point.
        y: { range: (_u, _min, max) => [0, Math.max(this.minMax, max * 1.15)] },
      },
      axes: [
        {
          stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, space: 70,
          values: (_u, splits) => splits.map((v) => clock(v)),
        },
        { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, size: 84, values: (_u, vals) => vals.map((v) => fmt(v)) },
      ],
      cursor: { drag: { x: false, y: false } },
      // One legend per chart (issue 16): the dashboard's own line of current values with swatches
      // (readable text, also for screen readers) — not uPlot's table beside it.
      legend: { show: false },
    };
    this.chart = new uPlot(opts, this.data, wrap);
  }

  override render() {
    const empty = (this.data[0]?.length ?? 0) === 0;
    return html`<div class="wrap" role="img" aria-label=${this.summary}>
      <div class="plot"></div>
      ${empty && this.emptyText ? html`<p class="empty muted small">${this.emptyText}</p>` : ''}
    </div>`;
  }
}
customElements.define('dashboard-rate-chart', DashboardRateChart);
