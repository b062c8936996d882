/**
 * Audit (auditor, DESIGN §4, §8): the event log as people read it.
 *
 * - Hash chain: GET /events/verify on open and on demand — "verified" or the first broken seq,
 *   at the top of the page.
 * - The log: GET /audit-events (newest first, filters by actor, type and time, secrets redacted,
 *   one readable summary per event), "Load older" follows `next`. Live: each `event_appended`
 *   that could match the filters fetches the rows newer than the list's watermark (the head seq
 *   the last fetch was decided on, its ETag); after a ws gap `onResume` runs the same walk, so
 *   nothing is missed (ui/data/audit-paging.ts).
 * - A row opens its details (<mcm-audit-detail>): redacted data, before/after, the stream's
 *   history (GET /events?stream=).
 * - Time travel: GET /state?at=SEQ shows users, rules and the rendered files as of any seq,
 *   read-only (<mcm-audit-state>).
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import type { ApiResponse } from '../data/api-client.ts';
import {
  actorLabel, auditQuery, chainStatus, createStateCache, EVENT_TYPE_GROUPS, hasFilters, liveEventMatches, NO_AUDIT_FILTERS, seqProblem,
  type AuditFilters, type AuditRow, type EventAppended, type EventView, type StateView, type VerifyResult,
} from '../data/audit-model.ts';
import { timeRangeProblem, type Page } from '../data/audit-paging.ts';
import { formatAgo, formatTime, truncate } from '../data/format.ts';
import type { LiveMessage } from '../data/live-client.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { LivePagedList } from '../controllers/live-paged-list.ts';
import '../components/audit-event-detail.ts';
import '../components/audit-state-view.ts';

type Travel = { seq: number; state: StateView | null; event: EventView | null; error: string };

const etagSeq = (etag: string | null): number | null => {
  const m = /^(?:W\/)?"(\d+)"$/.exec(etag ?? '');
  return m ? Number(m[1]) : null;
};

export class McmAudit extends McmScreen {
  static override styles = [...McmScreen.styles, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    .chain { display: flex; flex-wrap: wrap; align-items: center; gap: .6rem 1rem; }
    .chain .title { font-size: 1.05rem; font-weight: 600; }
    .chain.ok { border-color: var(--ok); background: var(--ok-bg); color: var(--fg); }
    .chain.error { border-color: var(--danger); background: var(--danger-bg); border-width: 2px; color: var(--fg); }
    .chain.ok .title { color: var(--ok); }
    .chain.error .title { color: var(--danger); }
    .chain .hash { overflow-wrap: anywhere; }
    section.card { margin-bottom: 1rem; }
    form.filters { margin-bottom: .6rem; }
    tr.open > td { background: var(--bg-hover); }
    tr.fresh > td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
    td.detail { padding: .6rem .8rem 1rem; background: var(--bg-sunken); }
    td.summary { min-width: 14rem; }
    .travel-banner { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
    input.seq { width: 8rem; }
    select.type { max-width: 16rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    verify: { state: true }, verifyError: { state: true }, verifying: { state: true }, verifiedAt: { state: true }, appendedSinceVerify: { state: true },
    filters: { state: true }, filterError: { state: true },
    head: { state: true }, openSeq: { state: true },
    travel: { state: true }, travelInput: { state: true }, travelProblem: { state: true },
  };
  declare verify: VerifyResult | null;
  declare verifyError: string;
  declare verifying: boolean;
  declare verifiedAt: string;
  declare appendedSinceVerify: number;
  declare filters: AuditFilters;
  declare filterError: string;
  declare head: number | null;
  declare openSeq: number | null;
  declare travel: Travel | null;
  declare travelInput: string;
  declare travelProblem: string;

  /** The log, newest first; its watermark is the head seq its last fetch was decided on. */
  private readonly list: LivePagedList<AuditRow>;
  private readonly states = createStateCache((seq) => this.services.api.get<StateView>('/state', { at: seq }));

  constructor() {
    super();
    this.verify = null;
    this.verifyError = '';
    this.verifying = false;
    this.verifiedAt = '';
    this.appendedSinceVerify = 0;
    this.filters = NO_AUDIT_FILTERS;
    this.filterError = '';
    this.head = null;
    this.openSeq = null;
    this.travel = null;
    this.travelInput = '';
    this.travelProblem = '';
    this.list = new LivePagedList<AuditRow>(this, {
      page: (cursor) => this.page(cursor),
      key: (r) => r.seq,
      errorText: (err) => this.errorText(err),
    });
    new LiveController(this, () => this.services?.live, {
      event_appended: (m) => this.onAppended(m),
    }, () => this.list.scheduleRefresh(0));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.runVerify();
    void this.list.reload();
  }

  // ------------------------------------------------------------ chain

  private async runVerify(): Promise<void> {
    this.verifying = true;
    this.verifyError = '';
    try {
      this.verify = await this.services.api.get<VerifyResult>('/events/verify');
      this.verifiedAt = new Date(this.services.now()).toISOString();
      this.appendedSinceVerify = 0;
      if (this.verify.head !== undefined) this.head = Math.max(this.head ?? 0, this.verify.head);
    } catch (err) {
      this.verifyError = this.errorText(err);
    } finally {
      this.verifying = false;
    }
  }

  // ------------------------------------------------------------ the log

  private async page(cursor: string | undefined): Promise<Page<AuditRow> & { head: number | null }> {
    const res: ApiResponse<Page<AuditRow>> = await this.services.api.request('GET', '/audit-events', { query: auditQuery(this.filters, cursor) });
    const head = etagSeq(res.etag);
    if (head !== null) this.head = Math.max(this.head ?? 0, head);
    return { ...res.body, head };
  }

  private onAppended(m: LiveMessage): void {
    const e = m as unknown as EventAppended;
    if (typeof e.seq !== 'number') return;
    this.head = Math.max(this.head ?? 0, e.seq);
    this.appendedSinceVerify += 1;
    if (e.seq > this.list.watermark && liveEventMatches(e, this.filters)) this.list.scheduleRefresh(150);
  }

  private applyFilters(e: SubmitEvent): void {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const f: AuditFilters = {
      actor: String(form.get('actor') ?? ''),
      type: String(form.get('type') ?? ''),
      since: String(form.get('since') ?? ''),
      until: String(form.get('until') ?? ''),
    };
    const problem = timeRangeProblem(f.since, f.until);
    this.filterError = problem ?? '';
    if (problem) return;
    this.filters = f;
    this.openSeq = null;
    void this.list.reload();
  }

  private clearFilters(): void {
    this.filters = NO_AUDIT_FILTERS;
    this.filterError = '';
    const form = this.renderRoot.querySelector('form.filters') as HTMLFormElement | null;
    form?.reset();
    void this.list.reload();
  }

  // ------------------------------------------------------------ time travel

  private async showState(seq: number): Promise<void> {
    this.travelInput = String(seq);
    this.travelProblem = '';
    this.travel = { seq, state: null, event: null, error: '' };
    await this.updateComplete;
    const h = this.renderRoot.querySelector('#travel-h') as HTMLElement | null;
    h?.scrollIntoView({ block: 'start' });
    h?.focus();
    try {
      const [state, events] = await Promise.all([
        this.states.get(seq),
        seq > 0 ? this.services.api.get<{ items: EventView[] }>('/events', { after: seq - 1, limit: 1 }) : Promise.resolve({ items: [] as EventView[] }),
      ]);
      if (this.travel?.seq === seq) this.travel = { seq, state, event: events.items[0] ?? null, error: '' };
    } catch (err) {
      if (this.travel?.seq === seq) this.travel = { seq, state: null, event: null, error: this.errorText(err) };
    }
  }

  private submitTravel(e: SubmitEvent): void {
    e.preventDefault();
    const problem = seqProblem(this.travelInput, this.head);
    this.travelProblem = problem ?? '';
    if (!problem) void this.showState(Number(this.travelInput.trim()));
  }

  // ------------------------------------------------------------ rendering

  private renderChain() {
    const s = chainStatus(this.verify);
    return html`
      <section class="card chain ${this.verifyError ? 'error' : s.tone}" aria-labelledby="chain-h" data-testid="chain-status">
        <div class="stack">
          <span id="chain-h" class="title" role=${s.tone === 'error' ? 'alert' : 'status'}>
            ${s.tone === 'ok' ? html`<span class="badge ok">verified</span> ` : s.tone === 'error' ? html`<span class="badge error">broken</span> ` : nothing}${this.verifying && !this.verify ? 'Checking the hash chain…' : s.title}
          </span>
          ${s.tone === 'error' ? html`<span>${s.detail}. Rows from seq ${this.verify?.first_bad_seq} on were changed or removed outside MCM: restore a backup and compare (<code>mcm events verify</code>).</span>` : nothing}
          ${s.tone === 'ok' && s.detail ? html`<span class="muted small hash">${s.detail}</span>` : nothing}
          ${this.verifiedAt ? html`<span class="muted small">Checked ${formatAgo(this.verifiedAt, this.services.now())}${this.appendedSinceVerify > 0 ? html` — ${this.appendedSinceVerify} event${this.appendedSinceVerify === 1 ? '' : 's'} appended since` : nothing}.</span>` : nothing}
          ${this.verifyError ? html`<span class="banner error" role="alert">Could not check the chain: ${this.verifyError}</span>` : nothing}
        </div>
        <span class="spacer"></span>
        <button type="button" @click=${() => this.runVerify()} ?disabled=${this.verifying}>${this.verifying ? 'Checking…' : 'Verify again'}</button>
      </section>`;
  }

  private renderTravel() {
    const t = this.travel;
    return html`
      <section class="card" aria-labelledby="travel-h">
        <h2 id="travel-h" tabindex="-1">${t ? `State at seq ${t.seq}` : 'Time travel'}</h2>
        <form class="row" @submit=${(e: SubmitEvent) => this.submitTravel(e)} novalidate>
          <label>Seq
            <input class="seq" name="seq" inputmode="numeric" .value=${this.travelInput} aria-invalid=${this.travelProblem ? 'true' : 'false'} aria-describedby="travel-help"
              @input=${(e: InputEvent) => { this.travelInput = (e.target as HTMLInputElement).value; this.travelProblem = ''; }}>
          </label>
          <button type="submit">Show state</button>
          ${t ? html`<button type="button" @click=${() => { this.travel = null; }}>Close</button>` : nothing}
        </form>
        <p id="travel-help" class="muted small">${this.travelProblem
          ? html`<span class="error" role="alert">${this.travelProblem}</span>`
          : html`Read-only: the MQTT users, rules and rendered broker files as they were after a seq (0 = before the first event)${this.head !== null ? html`; the log is at seq ${this.head} now` : nothing}. Nothing is changed.`}</p>
        ${t ? html`
          ${t.error ? html`<p class="banner error" role="alert">${t.error}</p>` : nothing}
          ${!t.state && !t.error ? html`<p class="muted" role="status">Folding the log up to seq ${t.seq}…</p>` : nothing}
          ${t.state ? html`
            <p class="banner warn travel-banner" role="status" data-testid="travel-banner">
              <strong>Viewing the past:</strong> the state after seq ${t.seq}${t.event ? html` (${t.event.type} on ${t.event.stream}, ${formatTime(t.event.at)})` : t.seq === 0 ? ' (before the first event)' : nothing}${this.head !== null && this.head > t.seq ? html`, ${this.head - t.seq} event${this.head - t.seq === 1 ? '' : 's'} ago` : nothing}.
            </p>
            <mcm-audit-state .state=${t.state}></mcm-audit-state>` : nothing}` : nothing}
      </section>`;
  }

  private renderFilters() {
    const f = this.filters;
    return html`
      <form class="row filters" aria-label="Filter the log" @submit=${(e: SubmitEvent) => this.applyFilters(e)} novalidate>
        <label>Actor <input name="actor" .value=${f.actor} placeholder="admin username" autocomplete="off"></label>
        <label>Type
          <select name="type" class="type" .value=${f.type}>
            <option value="">Any type</option>
            ${EVENT_TYPE_GROUPS.map((g) => html`<optgroup label=${g.label}>${g.types.map((t) => html`<option value=${t} ?selected=${t === f.type}>${t}</option>`)}</optgroup>`)}
          </select>
        </label>
        <label>From (UTC) <input name="since" type="datetime-local" step="1" .value=${f.since}></label>
        <label>Until (UTC) <input name="until" type="datetime-local" step="1" .value=${f.until}></label>
        <button type="submit" class="primary">Filter</button>
        ${hasFilters(f) ? html`<button type="button" @click=${() => this.clearFilters()}>Clear filters</button>` : nothing}
      </form>
      ${this.filterError ? html`<p class="banner error" role="alert">${this.filterError}</p>` : nothing}`;
  }

  private renderRows() {
    if (this.list.rows.length === 0) {
      if (this.list.loading) return html`<p class="muted" role="status">Loading the log…</p>`;
      if (this.list.error) return nothing;
      return html`<p class="muted">${hasFilters(this.filters)
        ? 'No event matches these filters. Widen the time range, or clear the filters.'
        : 'The log is empty. Every change made through the UI, the API, the CLI or GitOps will be listed here.'}</p>`;
    }
    return html`
      <div class="table-wrap"><table data-testid="audit-table">
        <caption class="sr-only">Recorded events, newest first</caption>
        <thead><tr><th scope="col">Seq</th><th scope="col">Time (UTC)</th><th scope="col">Actor</th><th scope="col">Type</th><th scope="col">Entity</th><th scope="col">Summary</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${this.list.rows.map((r) => {
          const open = this.openSeq === r.seq;
          return html`
            <tr class="${open ? 'open' : ''} ${this.list.fresh.has(r.seq) ? 'fresh' : ''}" data-seq=${r.seq}>
              <td>${r.seq}${this.list.fresh.has(r.seq) ? html` <span class="badge">new</span>` : nothing}</td>
              <td>${formatTime(r.at)}</td>
              <td>${actorLabel(r.actor)}</td>
              <td>${r.action}</td>
              <td class="mono">${truncate(r.resource, 48)}</td>
              <td class="summary">${r.summary}</td>
              <td><div class="actions">
                <button type="button" aria-expanded=${open ? 'true' : 'false'} aria-controls="detail-${r.seq}" @click=${() => { this.openSeq = open ? null : r.seq; }}>${open ? 'Hide' : 'Details'}<span class="sr-only"> of event ${r.seq}</span></button>
                <button type="button" class="link" @click=${() => this.showState(r.seq)}>State at #${r.seq}</button>
              </div></td>
            </tr>
            ${open ? html`<tr id="detail-${r.seq}"><td class="detail" colspan="7">
              <mcm-audit-detail .row=${r} .api=${this.services.api} .states=${this.states} @time-travel=${(e: CustomEvent<{ seq: number }>) => this.showState(e.detail.seq)}></mcm-audit-detail>
            </td></tr>` : nothing}`;
        })}</tbody>
      </table></div>`;
  }

  override render() {
    return html`
      <h1>Audit</h1>
      ${this.renderChain()}
      ${this.renderTravel()}
      <section class="card" aria-labelledby="log-h">
        <div class="toolbar">
          <h2 id="log-h">Event log</h2>
          <span class="spacer"></span>
          <span class="muted small" role="status">${this.list.rows.length} shown${this.list.next ? ', more below' : ''}${hasFilters(this.filters) ? ' (filtered)' : ''}</span>
          <button type="button" @click=${() => this.list.reload()} ?disabled=${this.list.loading}>Reload</button>
        </div>
        ${this.renderFilters()}
        ${this.list.error ? html`<p class="banner error" role="alert">${this.list.error}</p>` : nothing}
        ${this.list.hole ? html`<p class="banner warn" role="status">More events arrived than this page can add at once: <button type="button" class="link" @click=${() => this.list.reload()}>reload the log</button> to see them all.</p>` : nothing}
        ${this.renderRows()}
        ${this.list.next ? html`<p><button type="button" @click=${() => this.list.loadOlder()} ?disabled=${this.list.loading}>Load older events</button></p>` : nothing}
      </section>`;
  }
}
customElements.define('mcm-audit', McmAudit);
