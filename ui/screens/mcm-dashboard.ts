/**
 * Dashboard (viewer): is the broker up (and why not), its version and uptime, connected clients,
 * the observed topics, live PUBLISH message and byte rates from the broker's $SYS counters, whether the
 * broker runs the desired generation (apply status, with Retry for operators), and the recent
 * security events (auditors and above).
 *
 * Sources: GET /status, /clients, /security/events on load; then the live stream (snapshot,
 * broker_status, broker_stats, apply_status, client_connected/disconnected, security_event), and
 * GET /status again on the broker's $SYS pushes (at most every 5 s) for the topic totals.
 * The chart series live as long as the page (one per live client), so leaving the dashboard and
 * coming back keeps the history.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import '../components/dashboard-rate-chart.ts';
import type { ChartSeries } from '../components/dashboard-rate-chart.ts';
import { LiveController } from '../controllers/live-controller.ts';
import {
  brokerVersion, EMPTY_BROKER_VIEW, fromStatus, sysFigure, SYS_FIGURE_ROWS, withApplyStatus, withBrokerStats, withBrokerStatus, withSnapshot,
  type ApplyStatus, type BrokerView, type StatusResponse,
} from '../data/broker-view.ts';
import { formatAgo, formatBytes, formatCount, formatDuration, formatLatency, formatRate, formatTime } from '../data/format.ts';
import type { LiveClient, LiveMessage } from '../data/live-client.ts';
import { createClientsModel, type ClientRow, type ClientsModel, type RecentDisconnect } from '../data/live-clients.ts';
import { BYTE_COUNTERS, createRateSeries, MESSAGE_COUNTERS, rateCounters, type RateSeries } from '../data/rate-series.ts';

type SecurityEvent = { id?: number; at: string; category: string; severity: 'info' | 'warning' | 'critical'; message: string; actor?: string | null };

const SECURITY_LIMIT = 8;
const STATUS_REFRESH_MS = 5000;
/** The chart history asked of the server on load (GET /status?history_s; the server keeps 15 minutes). */
const HISTORY_S = 900;

/** The chart history, kept per live client (one per signed-in page) across dashboard visits. */
type Counters = Readonly<Record<string, unknown>>;
type Rates = {
  messages: RateSeries;
  bytes: RateSeries;
  feed(t: number, values: Counters): void;
  /**
   * The server's history (GET /status?history_s, oldest first), while the charts have no point
   * yet: the series start again from it, then take the newest live sample again (a live sample
   * can arrive before the history, and a series only moves forward in time).
   */
  seed(samples: readonly { t: number; values: Counters }[]): void;
};
const ratesByLive = new WeakMap<LiveClient, Rates>();
const ratesFor = (live: LiveClient): Rates => {
  const known = ratesByLive.get(live);
  if (known) return known;
  let lastLive: { t: number; values: Counters } | null = null;
  const r: Rates = {
    messages: createRateSeries(MESSAGE_COUNTERS),
    bytes: createRateSeries(BYTE_COUNTERS),
    feed: (t, values) => {
      lastLive = { t, values };
      r.messages.sample(t, values);
      r.bytes.sample(t, values);
    },
    seed: (samples) => {
      if (r.messages.size() > 0 || r.bytes.size() > 0) return;
      r.messages = createRateSeries(MESSAGE_COUNTERS);
      r.bytes = createRateSeries(BYTE_COUNTERS);
      const until = lastLive?.t ?? Infinity;
      for (const s of samples) {
        if (s.t >= until) break;
        r.messages.sample(s.t, s.values);
        r.bytes.sample(s.t, s.values);
      }
      if (lastLive) r.feed(lastLive.t, lastLive.values);
    },
  };
  live.on('broker_stats', (m) => {
    if (typeof m['stats'] === 'object' && m['stats'] !== null && typeof m.at === 'string') {
      r.feed(Date.parse(m.at), rateCounters(m['stats'] as Record<string, unknown>, m['figures'] as Record<string, unknown> | undefined));
    }
  });
  live.on('snapshot', (m) => {
    const stats = m['stats'] as { values?: Record<string, unknown>; figures?: Record<string, unknown>; updated_at?: string | null } | undefined;
    if (stats?.values && stats.updated_at) r.feed(Date.parse(stats.updated_at), rateCounters(stats.values, stats.figures));
  });
  ratesByLive.set(live, r);
  return r;
};

/** What the message chart shows (issue 12): PUBLISH packets, not every MQTT packet. */
const MESSAGES_TITLE = 'PUBLISH messages per second, received / sent';
const MESSAGE_SERIES: ChartSeries[] = [{ label: 'received', color: '--chart-1' }, { label: 'sent', color: '--chart-2' }];
const BYTE_SERIES: ChartSeries[] = [{ label: 'received', color: '--chart-1' }, { label: 'sent', color: '--chart-2' }];
const msgRate = (v: number | null): string => formatRate(v);
const byteRate = (v: number | null): string => (v === null ? '—' : v > 0 && v < 10 ? `${v.toFixed(1)} B/s` : `${formatBytes(v)}/s`);

export class McmDashboard extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    .kpis { grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
    .charts { grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); margin-top: .9rem; }
    .big { font-size: 1.9rem; font-weight: 650; line-height: 1.1; margin: .2rem 0; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .4rem 0 0; }
    dt { color: var(--fg-muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    .card.failed { border-color: var(--danger); }
    .card h2 { display: flex; align-items: center; gap: .5rem; }
    .latest { display: flex; gap: 1rem; flex-wrap: wrap; margin: 0 0 .3rem; }
    .swatch { display: inline-block; width: .7rem; height: .7rem; border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
    .swatch.s1 { background: var(--chart-1); }
    .swatch.s2 { background: var(--chart-2); }
    .security { margin-top: .9rem; }
    td.sev { width: 7rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    view: { state: true },
    error: { state: true },
    securityError: { state: true },
    security: { state: true },
    retrying: { state: true },
    clientsTotal: { state: true },
  };
  declare view: BrokerView;
  declare error: string;
  declare securityError: string;
  declare security: SecurityEvent[] | null;
  declare retrying: boolean;
  /** GET /clients total when it is more than one page (rare); null otherwise. */
  declare clientsTotal: number | null;

  private readonly clients: ClientsModel = createClientsModel();
  private rates: Rates | null = null;
  private statusAt = 0;
  private statusInFlight = false;

  constructor() {
    super();
    this.view = EMPTY_BROKER_VIEW;
    this.error = '';
    this.securityError = '';
    this.security = null;
    this.retrying = false;
    this.clientsTotal = null;
    new LiveController(this, () => this.services?.live, {
      snapshot: (m) => {
        this.view = withSnapshot(this.view, m);
        if (Array.isArray(m['clients'])) this.clients.snapshot(m['clients'] as ClientRow[]);
      },
      broker_status: (m) => { this.view = withBrokerStatus(this.view, m); },
      broker_stats: (m) => {
        this.view = withBrokerStats(this.view, m);
        this.refreshStatus();
      },
      apply_status: (m) => { this.view = withApplyStatus(this.view, m); },
      client_connected: (m) => { this.clients.connected(m['client'] as ClientRow, String(m.at)); },
      client_disconnected: (m) => { this.clients.disconnected(String(m['client_id']), (m['username'] as string | null) ?? null, String(m['reason'] ?? ''), String(m.at)); },
      security_event: (m) => this.onSecurityEvent(m),
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.rates = ratesFor(this.services.live);
    void this.load();
  }

  private async load(): Promise<void> {
    const api = this.services.api;
    this.error = '';
    this.clients.beginLoad();
    this.statusAt = this.services.now();
    // The server keeps the last 15 minutes of the broker's counters: a page opened now shows
    // them at once instead of waiting two $SYS intervals for its first point (issue 16).
    const status = api.get<StatusResponse>('/status', { history_s: HISTORY_S }).then((s) => {
      this.view = fromStatus(s);
      const r = this.rates;
      r?.seed((s.stats?.history ?? []).map((h) => ({ t: Date.parse(h.at), values: rateCounters(h.values, h.figures) })));
      if (s.stats?.updated_at) r?.feed(Date.parse(s.stats.updated_at), rateCounters(s.stats.values, s.stats.figures));
    });
    const clients = api.get<{ items: ClientRow[]; total?: number; recent_disconnects: RecentDisconnect[] }>('/clients', { limit: 1000 }).then((c) => {
      this.clients.finishLoad(c.items, c.recent_disconnects);
      this.clientsTotal = c.total !== undefined && c.total > c.items.length ? c.total : null;
    }, (e: unknown) => {
      this.clients.abortLoad();
      throw e;
    });
    const security = this.services.can('auditor') ? this.loadSecurity() : Promise.resolve();
    const results = await Promise.allSettled([status, clients, security]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) this.error = this.errorText(failed.reason);
    this.requestUpdate();
  }

  /**
   * GET /status again, at most every STATUS_REFRESH_MS, paced by the broker's $SYS pushes: the
   * topic tree's totals are not pushed live (the topic stream is too chatty for this card).
   */
  private refreshStatus(): void {
    const now = this.services.now();
    if (this.statusInFlight || now - this.statusAt < STATUS_REFRESH_MS) return;
    this.statusInFlight = true;
    this.statusAt = now;
    this.services.api.get<StatusResponse>('/status').then((s) => {
      this.view = { ...this.view, topics: s.topics };
    }, () => { /* the next push tries again; the stream itself says whether the broker is up */ }).finally(() => {
      this.statusInFlight = false;
    });
  }

  private async loadSecurity(): Promise<void> {
    try {
      const res = await this.services.api.get<{ items: SecurityEvent[] }>('/security/events', { limit: SECURITY_LIMIT });
      this.security = res.items;
      this.securityError = '';
    } catch (e) {
      this.securityError = this.errorText(e);
    }
  }

  private onSecurityEvent(m: LiveMessage): void {
    if (!this.security) return;
    const e: SecurityEvent = {
      at: String(m.at ?? ''), category: String(m['category'] ?? ''), severity: (m['severity'] as SecurityEvent['severity']) ?? 'info', message: String(m['message'] ?? ''),
    };
    this.security = [e, ...this.security].slice(0, SECURITY_LIMIT);
  }

  private async retry(): Promise<void> {
    this.retrying = true;
    try {
      const status = await this.services.api.post<ApplyStatus>('/apply-status/retry');
      this.view = { ...this.view, apply: status };
      this.services.notify(status.state === 'failed'
        ? { kind: 'error', text: `Apply of seq ${status.last?.seq ?? status.desired_seq} failed again: ${status.last?.reason ?? 'see the security events'}` }
        : { kind: 'ok', text: `Apply re-run: ${status.state} (desired seq ${status.desired_seq}, applied seq ${status.applied_seq}).` });
    } catch (e) {
      this.services.notify({ kind: 'error', text: `Retry failed: ${this.errorText(e)}` });
    } finally {
      this.retrying = false;
    }
  }

  private renderBroker() {
    const v = this.view;
    const badge = v.up === true ? html`<span class="badge ok">up</span>` : v.up === false ? html`<span class="badge error">down</span>` : html`<span class="badge">unknown</span>`;
    return html`<section class="card" aria-labelledby="broker-h">
      <h2 id="broker-h">Broker ${badge}</h2>
      ${v.up === false ? html`<p class="banner error" role="alert">The broker is not reachable${v.reason ? html`: ${v.reason}` : ''}.</p>` : nothing}
      ${v.up === false && v.apply?.state === 'adoption_required' ? html`<p class="small muted">MCM's service account is not in the broker's files until they are imported, so MCM's observer cannot log in yet; the broker itself keeps running on its files.</p>` : nothing}
      ${v.up === null ? html`<p class="muted small">This server runs without a broker observer: broker state unknown.</p>` : nothing}
      <dl>
        <dt>Version</dt><dd data-testid="broker-version">${brokerVersion(v) ?? '—'}</dd>
        <dt>Uptime</dt><dd>${formatDuration(v.uptimeS)}</dd>
        <dt>Mode</dt><dd>${v.mode ?? v.apply?.broker.mode ?? '—'}</dd>
        <dt>${v.up === false ? 'Down since' : 'Up since'}</dt><dd>${v.since ? html`<time datetime=${v.since} title=${formatTime(v.since)}>${formatAgo(v.since, this.services.now())}</time>` : '—'}</dd>
        ${SYS_FIGURE_ROWS.map((f) => {
          const n = sysFigure(v, f.key);
          return html`<dt title=${f.meaning}>${f.label}</dt><dd title=${f.meaning} data-sys=${f.key}>${n === null ? '—' : formatCount(n)}</dd>`;
        })}
      </dl>
    </section>`;
  }

  private renderClients() {
    const n = this.clientsTotal ?? this.clients.size();
    const loaded = this.clients.loaded();
    return html`<section class="card" aria-labelledby="clients-h">
      <h2 id="clients-h">Connected clients</h2>
      <p class="big" data-testid="clients-count">${loaded ? formatCount(n) : '—'}</p>
      <p class="small muted">MQTT connections right now (MCM's own observer and probe connections left out). <a href="/clients" @click=${this.go}>See the clients</a></p>
    </section>`;
  }

  private renderTopics() {
    const t = this.view.topics;
    return html`<section class="card" aria-labelledby="topics-h">
      <h2 id="topics-h">Topics</h2>
      <p class="big">${t ? formatCount(t.topics) : '—'}</p>
      <p class="small muted">
        ${t ? html`${formatCount(t.messages)} messages (${formatBytes(t.bytes)}) observed${t.evicted > 0 ? html`; ${formatCount(t.evicted)} least recently seen topics evicted (limit ${formatCount(t.max_topics)})` : ''}. ` : ''}
        <a href="/topics" @click=${this.go}>Explore topics</a>
      </p>
    </section>`;
  }

  private renderApply() {
    const a = this.view.apply;
    const canRetry = this.services.can('operator');
    const why = this.services.whyNot('operator');
    const badge = !a ? html`<span class="badge">unknown</span>`
      : a.state === 'applied' ? html`<span class="badge ok">applied</span>`
        : a.state === 'failed' ? html`<span class="badge error">failed</span>`
          : a.state === 'adoption_required' ? html`<span class="badge warn">adoption required</span>` : html`<span class="badge warn">pending</span>`;
    return html`<section class="card ${a?.state === 'failed' ? 'failed' : ''}" aria-labelledby="apply-h" data-testid="apply-card">
      <h2 id="apply-h">Apply status ${badge}</h2>
      ${a?.state === 'failed' ? html`<p class="banner error" role="alert">The broker does not run the desired configuration: apply of seq ${a.last?.seq ?? a.desired_seq} failed${a.last?.reason ? html`: ${a.last.reason}` : ''}. The last known-good files stay in place.</p>` : nothing}
      ${a?.state === 'adoption_required' ? html`<p class="banner warn" data-testid="apply-adoption">The broker's files were not written by MCM
        (${(a.adoption?.files ?? []).map((f, i) => html`${i > 0 ? ', ' : ''}<code>${f.path ?? f.file}</code>`)}): MCM writes nothing to the broker until they are imported.
        The broker keeps running on them. ${this.services.can('admin') ? html`<a href="/import" @click=${this.go}>Import them</a>` : html`An admin imports them on the Import screen or with <code>mcm import</code>.`}</p>` : nothing}
      ${a ? html`<dl>
        <dt>Desired seq</dt><dd>${a.desired_seq}</dd>
        <dt>Applied seq</dt><dd>${a.applied_seq}</dd>
        <dt>Last attempt</dt><dd>${a.last ? html`seq ${a.last.seq}: ${a.last.result}, ${formatLatency(a.last.latency_ms)}, <time datetime=${a.last.at} title=${formatTime(a.last.at)}>${formatAgo(a.last.at, this.services.now())}</time>` : 'none yet'}</dd>
        ${a.last?.reason && a.state !== 'failed' ? html`<dt>Reason</dt><dd>${a.last.reason}</dd>` : nothing}
        <dt>Broker</dt><dd>${a.broker.mode}${a.broker.backend === 'dynsec' ? ', users and rules in the dynamic-security plugin' : a.broker.reload ? html`, reload by ${a.broker.reload}` : ''}</dd>
      </dl>` : html`<p class="muted">Loading…</p>`}
      <div class="actions">
        <button type="button" class=${a?.state === 'failed' ? 'primary' : ''} ?disabled=${!canRetry || this.retrying} title=${why ?? 'Render, write, reload and probe the desired generation again now'} @click=${() => this.retry()}>${this.retrying ? 'Retrying…' : 'Retry apply'}</button>
      </div>
      ${why ? html`<p class="small muted">Retry ${why}.</p>` : nothing}
    </section>`;
  }

  private renderChart(title: string, id: string, series: RateSeries | null, labels: ChartSeries[], fmt: (v: number | null) => string, minMax: number) {
    const latest = series?.latest() ?? null;
    const summary = latest ? `${title}: ${labels.map((l, i) => `${l.label} ${fmt(latest.rates[i] ?? null)}`).join(', ')}` : `${title}: no data yet`;
    return html`<section class="card" aria-labelledby=${id}>
      <h2 id=${id}>${title}</h2>
      <p class="latest small">${labels.map((l, i) => html`<span><span class="swatch s${i + 1}" aria-hidden="true"></span>${l.label}: <strong>${fmt(latest?.rates[i] ?? null)}</strong></span>`)}</p>
      <dashboard-rate-chart .data=${series?.data() ?? [[]]} .series=${labels} .format=${fmt} .minMax=${minMax} summary=${summary}
        emptyText="Waiting for the broker's statistics ($SYS, every 10 s): a rate needs two samples."></dashboard-rate-chart>
    </section>`;
  }

  private renderSecurity() {
    if (!this.services.can('auditor')) {
      return html`<section class="card security" aria-labelledby="sec-h"><h2 id="sec-h">Recent security events</h2>
        <p class="muted">Security events are shown to auditors and above (you are ${this.services.role()}).</p></section>`;
    }
    const items = this.security;
    return html`<section class="card security" aria-labelledby="sec-h">
      <h2 id="sec-h">Recent security events</h2>
      ${this.securityError ? html`<p class="banner error" role="alert">${this.securityError}</p>` : nothing}
      ${items === null ? (this.securityError ? nothing : html`<p class="muted">Loading…</p>`)
        : items.length === 0 ? html`<p class="muted">No security events recorded: failed logins, lockouts, failed applies and drift show up here.</p>`
          : html`<div class="table-wrap"><table>
            <thead><tr><th scope="col">When</th><th scope="col">Severity</th><th scope="col">Category</th><th scope="col">Message</th></tr></thead>
            <tbody>${items.map((e) => html`<tr>
              <td><time datetime=${e.at} title=${formatTime(e.at)}>${formatAgo(e.at, this.services.now())}</time></td>
              <td class="sev"><span class="badge ${e.severity === 'critical' ? 'error' : e.severity === 'warning' ? 'warn' : ''}">${e.severity}</span></td>
              <td><code>${e.category}</code></td>
              <td>${e.message}</td>
            </tr>`)}</tbody>
          </table></div>`}
      <p class="small"><a href="/security" @click=${this.go}>All security events</a></p>
    </section>`;
  }

  private readonly go = (e: MouseEvent): void => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    this.services.navigate((e.currentTarget as HTMLAnchorElement).getAttribute('href') ?? '/');
  };

  override render() {
    const r = this.rates;
    const received = this.view.figures.publish_received;
    return html`
      <h1>Dashboard</h1>
      ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
      <div class="grid kpis">
        ${this.renderBroker()}
        ${this.renderClients()}
        ${this.renderTopics()}
        ${this.renderApply()}
      </div>
      <div class="grid charts">
        ${this.renderChart(MESSAGES_TITLE, 'msg-h', r?.messages ?? null, MESSAGE_SERIES, msgRate, 1)}
        ${this.renderChart('Bytes per second', 'bytes-h', r?.bytes ?? null, BYTE_SERIES, byteRate, 1024)}
      </div>
      <p class="small muted">${received === null ? '' : `The broker has received ${formatCount(received)} PUBLISH messages since it started. `}Rates come from the broker's $SYS counters, updated every 10 seconds.
        Messages count PUBLISH packets only (not connects, pings or other control packets): received from clients, and sent to subscribers with MCM's own observer left out.
        Bytes count everything on the wire.</p>
      ${this.renderSecurity()}
    `;
  }
}
customElements.define('mcm-dashboard', McmDashboard);
