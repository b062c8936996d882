/**
 * Clients (viewer): the MQTT connections right now, live (GET /clients, then the ws snapshot and
 * client_connected / client_disconnected), with a feed of connects and disconnects, newest first
 * and bounded, seeded with the server's recent disconnects and their reasons. The table comes
 * from the broker's connection log (reference §5: Mosquitto 2.0 has no query for it), so it says
 * which log source the server reads.
 */
import { css, html, nothing } from 'lit';
import { longName } from '../app/long-text.ts';
import { McmScreen } from '../app/mcm-screen.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { formatAgo, formatCount, formatTime } from '../data/format.ts';
import { createClientsModel, type ClientRow, type ClientsModel, type RecentDisconnect } from '../data/live-clients.ts';

type ClientList = { items: ClientRow[]; total?: number; recent_disconnects: RecentDisconnect[]; log_source: string };

const FEED_LIMIT = 50;

const LOG_SOURCES: Record<string, string> = {
  'broker-log': "the supervised broker's log output",
  file: "the broker's log file",
  'sys-topic': "the broker's $SYS/broker/log topics",
};

const endpoint = (c: { address: string | null; port: number | null }): string =>
  c.address === null ? '—' : c.port === null ? c.address : c.address.includes(':') ? `[${c.address}]:${c.port}` : `${c.address}:${c.port}`;

export class McmClients extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    .layout { display: grid; grid-template-columns: minmax(0, 2fr) minmax(16rem, 1fr); gap: .9rem; align-items: start; }
    @media (max-width: 1100px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    .feed { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .35rem; max-height: 36rem; overflow: auto; }
    .feed li { display: grid; grid-template-columns: auto 1fr; gap: .1rem .5rem; padding: .35rem .25rem; border-bottom: 1px solid var(--border); align-items: start; }
    .feed .badge { grid-row: 1 / span 2; align-self: start; }
    .feed .what { grid-column: 2; overflow-wrap: anywhere; }
    .feed .when { grid-column: 2; }
    td code { overflow-wrap: anywhere; }
    td.addr code { white-space: nowrap; }
    .count { font-weight: 600; }
  `];

  static override properties = {
    ...McmScreen.properties,
    error: { state: true },
    filter: { state: true },
    logSource: { state: true },
    total: { state: true },
  };
  declare error: string;
  declare filter: string;
  declare logSource: string;
  /** GET /clients total when it is more than one page; null otherwise. */
  declare total: number | null;

  private readonly model: ClientsModel = createClientsModel(FEED_LIMIT);

  constructor() {
    super();
    this.error = '';
    this.filter = '';
    this.logSource = '';
    this.total = null;
    new LiveController(this, () => this.services?.live, {
      snapshot: (m) => { if (Array.isArray(m['clients'])) this.model.snapshot(m['clients'] as ClientRow[]); },
      client_connected: (m) => { this.model.connected(m['client'] as ClientRow, String(m.at)); },
      client_disconnected: (m) => { this.model.disconnected(String(m['client_id']), (m['username'] as string | null) ?? null, String(m['reason'] ?? ''), String(m.at)); },
    });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.error = '';
    this.model.beginLoad();
    try {
      const res = await this.services.api.get<ClientList>('/clients', { limit: 1000 });
      this.model.finishLoad(res.items, res.recent_disconnects);
      this.logSource = res.log_source;
      this.total = res.total !== undefined && res.total > res.items.length ? res.total : null;
    } catch (e) {
      this.model.abortLoad();
      this.error = this.errorText(e);
    }
    this.requestUpdate();
  }

  private shown(c: ClientRow): boolean {
    const f = this.filter.trim().toLowerCase();
    if (!f) return true;
    return [c.client_id, c.username ?? '', c.address ?? ''].some((s) => s.toLowerCase().includes(f));
  }

  private renderTable() {
    const all = this.model.rows();
    const rows = all.filter((c) => this.shown(c));
    const now = this.services.now();
    if (!this.model.loaded()) return this.error ? nothing : html`<p class="muted">Loading…</p>`;
    if (all.length === 0) {
      return html`<p class="muted">No MQTT client is connected. Clients appear here as soon as they connect (MCM's own observer and probe connections are left out).</p>`;
    }
    if (rows.length === 0) return html`<p class="muted">No connected client matches “${this.filter}”.</p>`;
    return html`<div class="table-wrap"><table>
      <caption class="sr-only">Connected MQTT clients</caption>
      <thead><tr>
        <th scope="col">Client id</th><th scope="col">Username</th><th scope="col">Address</th><th scope="col">Protocol</th>
        <th scope="col">Keepalive</th><th scope="col">Clean</th><th scope="col">Connected</th>
      </tr></thead>
      <tbody>${rows.map((c) => html`<tr data-client-id=${c.client_id}>
        <td><code>${longName(c.client_id)}</code>${c.bridge ? html` <span class="badge">bridge</span>` : nothing}</td>
        <td>${c.username === null || c.username === undefined ? html`<span class="muted">anonymous</span>` : longName(c.username)}</td>
        <td class="addr"><code>${endpoint(c)}</code></td>
        <td>${c.protocol ?? '—'}</td>
        <td>${c.keepalive === null ? '—' : `${c.keepalive} s`}</td>
        <td>${c.clean === null ? '—' : c.clean ? 'yes' : 'no'}</td>
        <td><time datetime=${c.connected_at} title=${formatTime(c.connected_at)}>${formatAgo(c.connected_at, now)}</time></td>
      </tr>`)}</tbody>
    </table></div>`;
  }

  private renderFeed() {
    const feed = this.model.feed();
    const now = this.services.now();
    return html`<section class="card" aria-labelledby="feed-h">
      <h2 id="feed-h">Connects and disconnects</h2>
      <p class="small muted">Newest first, the last ${FEED_LIMIT}.</p>
      ${feed.length === 0 ? html`<p class="muted">Nothing yet: connects and disconnects show up here as they happen.</p>`
        : html`<ul class="feed" aria-live="polite" aria-label="Connection feed">${feed.map((f) => html`<li data-kind=${f.kind}>
          <span class="badge ${f.kind === 'connected' ? 'ok' : 'warn'}">${f.kind}</span>
          <span class="what"><code>${f.client_id}</code>${f.username ? html` as <strong>${f.username}</strong>` : nothing}${f.address ? html` from <code>${f.address}</code>` : nothing}${f.reason ? html` <span class="muted">(${f.reason})</span>` : nothing}</span>
          <span class="when small muted"><time datetime=${f.at} title=${formatTime(f.at)}>${formatAgo(f.at, now)}</time></span>
        </li>`)}</ul>`}
    </section>`;
  }

  override render() {
    const n = this.total ?? this.model.size();
    const live = this.services.live.state();
    return html`
      <h1>Clients</h1>
      ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
      ${live !== 'open' ? html`<p class="banner warn" role="status">The live connection is ${live}: the table may be behind until it is back.</p>` : nothing}
      <div class="layout">
        <section class="card" aria-labelledby="table-h">
          <div class="toolbar">
            <h2 id="table-h">Connected now: <span class="count" data-testid="clients-count">${this.model.loaded() ? formatCount(n) : '—'}</span></h2>
            <span class="spacer"></span>
            <label class="inline">Filter <input type="search" .value=${this.filter} placeholder="client id, user or address" @input=${(e: Event) => { this.filter = (e.target as HTMLInputElement).value; }}></label>
          </div>
          ${this.total !== null ? html`<p class="small muted">Showing the first ${formatCount(this.model.size())} of ${formatCount(this.total)}.</p>` : nothing}
          ${this.renderTable()}
          ${this.logSource ? html`<p class="small muted">Read from ${LOG_SOURCES[this.logSource] ?? this.logSource}.</p>` : nothing}
        </section>
        ${this.renderFeed()}
      </div>
    `;
  }
}
customElements.define('mcm-clients', McmClients);
