/**
 * Security events (auditor, DESIGN §1, §9): failed and successful sign-ins, lockouts, revoked
 * tokens, failed applies, fail-open, drift — GET /security/events, newest first, filtered by
 * category, severity and time, "Load older" pages on. Live: a `security_event` that could match
 * the filters fetches the rows newer than the top one (the live message has no id or details),
 * and after a ws gap the same walk fetches what was missed (ui/data/audit-paging.ts).
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { timeRangeProblem, type Page } from '../data/audit-paging.ts';
import { formatTime } from '../data/format.ts';
import type { LiveMessage } from '../data/live-client.ts';
import {
  categoryMeaning, detailPairs, hasSecurityFilters, KNOWN_CATEGORIES, liveSecurityMatches, NO_SECURITY_FILTERS, securityQuery, SEVERITIES, severityTone,
  type SecurityEvent, type SecurityFilters, type SecurityLive, type Severity,
} from '../data/security-model.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { LivePagedList } from '../controllers/live-paged-list.ts';

export class McmSecurityEvents extends McmScreen {
  static override styles = [...McmScreen.styles, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    section.card { margin-bottom: 1rem; }
    form.filters { margin-bottom: .6rem; }
    tr.fresh > td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
    tr.critical > td { background: var(--danger-bg); }
    td.details { max-width: 28rem; overflow-wrap: anywhere; }
    td.details span { display: inline-block; margin-right: .6rem; }
    input.category { min-width: 14rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    filters: { state: true }, filterError: { state: true },
  };
  declare filters: SecurityFilters;
  declare filterError: string;
  private readonly list: LivePagedList<SecurityEvent>;

  constructor() {
    super();
    this.filters = NO_SECURITY_FILTERS;
    this.filterError = '';
    // Ids grow with time: the list's watermark is the newest id loaded.
    this.list = new LivePagedList<SecurityEvent>(this, {
      page: (cursor) => this.services.api.get<Page<SecurityEvent>>('/security/events', securityQuery(this.filters, cursor)),
      key: (r) => r.id,
      errorText: (err) => this.errorText(err),
    });
    new LiveController(this, () => this.services?.live, {
      security_event: (m) => this.onSecurityEvent(m),
    }, () => this.list.scheduleRefresh(0));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.list.reload();
  }

  private onSecurityEvent(m: LiveMessage): void {
    if (liveSecurityMatches(m as unknown as SecurityLive, this.filters)) this.list.scheduleRefresh(150);
  }

  private applyFilters(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const severity = String(form.get('severity') ?? '');
    const f: SecurityFilters = {
      category: String(form.get('category') ?? ''),
      severity: (SEVERITIES as readonly string[]).includes(severity) ? (severity as Severity) : '',
      since: String(form.get('since') ?? ''),
      until: String(form.get('until') ?? ''),
    };
    const problem = timeRangeProblem(f.since, f.until);
    this.filterError = problem ?? '';
    if (problem) return;
    this.filters = f;
    void this.list.reload();
  }

  private clearFilters(): void {
    this.filters = NO_SECURITY_FILTERS;
    this.filterError = '';
    (this.renderRoot.querySelector('form.filters') as HTMLFormElement | null)?.reset();
    void this.list.reload();
  }

  private renderFilters() {
    const f = this.filters;
    return html`
      <form class="row filters" aria-label="Filter security events" @submit=${(e: SubmitEvent) => this.applyFilters(e)} novalidate>
        <label>Category
          <input name="category" class="category" list="categories" .value=${f.category} placeholder="e.g. auth.login_failed" autocomplete="off">
          <datalist id="categories">${KNOWN_CATEGORIES.map((c) => html`<option value=${c.category}>${c.meaning}</option>`)}</datalist>
        </label>
        <label>Severity
          <select name="severity" .value=${f.severity}>
            <option value="">Any severity</option>
            ${SEVERITIES.map((s) => html`<option value=${s} ?selected=${s === f.severity}>${s}</option>`)}
          </select>
        </label>
        <label>From (UTC) <input name="since" type="datetime-local" step="1" .value=${f.since}></label>
        <label>Until (UTC) <input name="until" type="datetime-local" step="1" .value=${f.until}></label>
        <button type="submit" class="primary">Filter</button>
        ${hasSecurityFilters(f) ? html`<button type="button" @click=${() => this.clearFilters()}>Clear filters</button>` : nothing}
      </form>
      ${this.filterError ? html`<p class="banner error" role="alert">${this.filterError}</p>` : nothing}`;
  }

  private renderRows() {
    if (this.list.rows.length === 0) {
      if (this.list.loading) return html`<p class="muted" role="status">Loading security events…</p>`;
      if (this.list.error) return nothing;
      return html`<p class="muted">${hasSecurityFilters(this.filters)
        ? 'No security event matches these filters. Widen the time range, or clear the filters.'
        : 'No security events yet. Failed sign-ins, lockouts, failed applies and drift will be listed here as they happen.'}</p>`;
    }
    return html`
      <div class="table-wrap"><table data-testid="security-table">
        <caption class="sr-only">Security events, newest first</caption>
        <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Severity</th><th scope="col">Category</th><th scope="col">Message</th><th scope="col">Who</th><th scope="col">Address</th><th scope="col">Details</th></tr></thead>
        <tbody>${this.list.rows.map((r) => html`
          <tr class="${this.list.fresh.has(r.id) ? 'fresh' : ''} ${r.severity === 'critical' ? 'critical' : ''}" data-id=${r.id}>
            <td>${formatTime(r.at)}${this.list.fresh.has(r.id) ? html` <span class="badge">new</span>` : nothing}</td>
            <td><span class="badge ${severityTone(r.severity)}">${r.severity}</span></td>
            <td class="mono" title=${categoryMeaning(r.category)}>${r.category}</td>
            <td>${r.message}</td>
            <td>${r.actor ?? html`<span class="muted">—</span>`}</td>
            <td class="mono">${r.ip ?? html`<span class="muted">—</span>`}</td>
            <td class="details small">${detailPairs(r.details).map((p) => html`<span class="mono">${p}</span>`)}</td>
          </tr>`)}
        </tbody>
      </table></div>`;
  }

  override render() {
    return html`
      <h1>Security events</h1>
      <p class="muted">Observations, not changes: sign-ins, lockouts, revoked tokens, failed applies, fail-open and drift. Changes are in the <a href="/audit" @click=${(e: MouseEvent) => { e.preventDefault(); this.services.navigate('/audit'); }}>audit log</a>.</p>
      <section class="card" aria-labelledby="sec-h">
        <div class="toolbar">
          <h2 id="sec-h">Events</h2>
          <span class="spacer"></span>
          <span class="muted small" role="status">${this.list.rows.length} shown${this.list.next ? ', more below' : ''}${hasSecurityFilters(this.filters) ? ' (filtered)' : ''}</span>
          <button type="button" @click=${() => this.list.reload()} ?disabled=${this.list.loading}>Reload</button>
        </div>
        ${this.renderFilters()}
        ${this.list.error ? html`<p class="banner error" role="alert">${this.list.error}</p>` : nothing}
        ${this.list.hole ? html`<p class="banner warn" role="status">More events arrived than this page can add at once: <button type="button" class="link" @click=${() => this.list.reload()}>reload</button> to see them all.</p>` : nothing}
        ${this.renderRows()}
        ${this.list.next ? html`<p><button type="button" @click=${() => this.list.loadOlder()} ?disabled=${this.list.loading}>Load older events</button></p>` : nothing}
      </section>`;
  }
}
customElements.define('mcm-security-events', McmSecurityEvents);
