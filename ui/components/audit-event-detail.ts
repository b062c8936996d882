/**
 * <mcm-audit-detail .row .api .states>: one audit row opened — who (actor, address, request id),
 * the recorded data (redacted by the server), the entity before and after this event, what it
 * changed in the rendered broker files, and the entity's history (GET /events?stream=).
 * Before/after: see inStateView in ui/data/audit-model.ts for why it comes from two server folds.
 * Fires `time-travel` ({seq}) when the user asks for the whole state at a seq.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import type { ApiClient } from '../data/api-client.ts';
import {
  actorLabel, adoptionWording, ENTITY_LABELS, entityInState, entityOf, fieldDiff, inStateView, isGenerationLine, lineDiff, userRules,
  type AuditRow, type EventView, type StateView,
} from '../data/audit-model.ts';
import { formatTime, prettyJson } from '../data/format.ts';
import { shared } from '../styles/theme.ts';

type StateCache = { get(seq: number): Promise<StateView> };
type Change = {
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  files: { name: string; added: string[]; removed: string[] }[];
};

const HISTORY_PAGE = 100;

const errorText = (err: unknown): string => {
  const e = err as { message?: string; code?: string };
  return e?.message ? (e.code && !e.code.startsWith('HTTP_') ? `${e.message} (${e.code})` : e.message) : String(err);
};

export class McmAuditDetail extends LitElement {
  static override styles = [shared, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    .cols { display: grid; gap: .9rem; grid-template-columns: repeat(auto-fit, minmax(280px, 1fr)); }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .3rem 0; }
    dt { color: var(--fg-muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    tr.changed td { background: var(--warn-bg); }
    tbody th { text-transform: none; letter-spacing: 0; font-size: .9em; color: var(--fg); }
    tr.current td { background: var(--bg-hover); font-weight: 600; }
    .add { color: var(--ok); }
    .del { color: var(--danger); }
    pre.diff { max-height: 14rem; }
    td.val { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
  `];
  static override properties = {
    row: { attribute: false }, api: { attribute: false }, states: { attribute: false },
    change: { state: true }, changeError: { state: true }, history: { state: true }, historyNext: { state: true }, historyError: { state: true },
  };
  declare row: AuditRow | null;
  declare api: ApiClient | null;
  declare states: StateCache | null;
  declare change: Change | null;
  declare changeError: string;
  declare history: EventView[] | null;
  declare historyNext: string | null;
  declare historyError: string;
  private loadedFor: number | null = null;

  constructor() {
    super();
    this.row = null;
    this.api = null;
    this.states = null;
    this.change = null;
    this.changeError = '';
    this.history = null;
    this.historyNext = null;
    this.historyError = '';
  }

  protected override willUpdate(): void {
    const row = this.row;
    if (!row || !this.api || this.loadedFor === row.seq) return;
    this.loadedFor = row.seq;
    this.change = null;
    this.changeError = '';
    this.history = null;
    this.historyError = '';
    void this.loadChange(row);
    if (entityOf(row.resource).kind !== 'broker') void this.loadHistory(row, undefined);
  }

  private async loadChange(row: AuditRow): Promise<void> {
    const ref = entityOf(row.resource);
    if (!inStateView(ref) || !this.states) return;
    try {
      const [before, after] = await Promise.all([this.states.get(row.seq - 1), this.states.get(row.seq)]);
      const pick = (s: StateView) => {
        const e = entityInState(s, ref);
        return e && ref.kind === 'mqtt-user' ? { ...e, direct_rules: userRules(s, ref.id) } : e;
      };
      const files = [
        { name: 'password_file', ...lineDiff(before.password_file, after.password_file) },
        { name: 'acl_file', ...lineDiff(before.acl_file, after.acl_file, isGenerationLine) },
      ];
      if (this.row?.seq === row.seq) this.change = { before: pick(before), after: pick(after), files };
    } catch (err) {
      if (this.row?.seq === row.seq) this.changeError = errorText(err);
    }
  }

  private async loadHistory(row: AuditRow, cursor: string | undefined): Promise<void> {
    if (!this.api) return;
    try {
      const page = await this.api.get<{ items: EventView[]; next?: string | null }>('/events', { stream: row.resource, limit: HISTORY_PAGE, cursor });
      if (this.row?.seq !== row.seq) return;
      this.history = [...(cursor ? this.history ?? [] : []), ...page.items];
      this.historyNext = page.next ?? null;
    } catch (err) {
      if (this.row?.seq === row.seq) this.historyError = errorText(err);
    }
  }

  private travel(seq: number): void {
    this.dispatchEvent(new CustomEvent('time-travel', { detail: { seq }, bubbles: true, composed: true }));
  }

  private renderChange(row: AuditRow) {
    const ref = entityOf(row.resource);
    const label = ENTITY_LABELS[ref.kind];
    const adopted = ref.kind === 'broker-files' ? adoptionWording(row.data) : null;
    if (adopted) {
      return html`<div data-testid="adoption-record"><p class="small">The operator's broker files were ${adopted.text}.</p>
        <ul class="small">${adopted.files.map((f) => html`<li class="mono">${f}</li>`)}</ul>
        ${adopted.how === 'import' ? html`<p class="muted small">The users and rules the import changed are their own events, recorded just before this one by the same actor.</p>` : nothing}</div>`;
    }
    if (!inStateView(ref)) {
      return html`<p class="muted small">${label}s are not part of the broker configuration, so the state view (GET /state) does not hold them;
        the recorded data above and the history below are the record of this change.</p>`;
    }
    if (this.changeError) return html`<p class="banner error" role="alert">${this.changeError}</p>`;
    const c = this.change;
    if (!c) return html`<p class="muted" role="status">Loading the state before and after seq ${row.seq}…</p>`;
    const diff = fieldDiff(c.before, c.after);
    const fileChanges = c.files.filter((f) => f.added.length + f.removed.length > 0);
    return html`
      <div class="table-wrap"><table data-testid="before-after">
        <caption class="sr-only">${label} ${ref.id} before and after seq ${row.seq}</caption>
        <thead><tr><th scope="col">Field</th><th scope="col">Before (seq ${row.seq - 1})</th><th scope="col">After (seq ${row.seq})</th></tr></thead>
        <tbody>
          ${c.before === null && c.after === null ? html`<tr><td colspan="3" class="muted">The ${label.toLowerCase()} exists neither before nor after this event.</td></tr>` : nothing}
          ${diff.map((d) => html`<tr class=${d.changed ? 'changed' : ''}>
            <th scope="row">${d.key}${d.changed ? html` <span class="badge warn">changed</span>` : nothing}</th>
            <td class="val">${c.before === null ? html`<span class="muted">(did not exist)</span>` : d.before}</td>
            <td class="val">${c.after === null ? html`<span class="muted">(deleted)</span>` : d.after}</td>
          </tr>`)}
        </tbody>
      </table></div>
      <h4>Rendered broker files <span class="muted small">(without the ACL file's generation header and probe line, which change every time)</span></h4>
      ${fileChanges.length === 0
        ? html`<p class="muted small">No line of the password file or the ACL file changed.</p>`
        : fileChanges.map((f) => html`<p class="small"><strong>${f.name}</strong>: <span class="add">+${f.added.length}</span> / <span class="del">−${f.removed.length}</span> lines</p>
            <pre class="diff">${f.removed.map((l) => html`<span class="del">- ${l}</span>\n`)}${f.added.map((l) => html`<span class="add">+ ${l}</span>\n`)}</pre>`)}`;
  }

  private renderHistory(row: AuditRow) {
    if (entityOf(row.resource).kind === 'broker') return html`<p class="muted small">Broker actions are independent of each other: use the type filter to list them.</p>`;
    if (this.historyError) return html`<p class="banner error" role="alert">${this.historyError}</p>`;
    if (!this.history) return html`<p class="muted" role="status">Loading the history of ${row.resource}…</p>`;
    return html`
      <div class="table-wrap"><table>
        <caption class="sr-only">Events of ${row.resource}</caption>
        <thead><tr><th scope="col">Seq</th><th scope="col">Time (UTC)</th><th scope="col">Type</th><th scope="col">Actor</th></tr></thead>
        <tbody>${this.history.map((e) => html`<tr class=${e.seq === row.seq ? 'current' : ''}>
          <td>${e.seq}${e.seq === row.seq ? html` <span class="sr-only">(this event)</span>` : nothing}</td><td>${formatTime(e.at)}</td><td>${e.type}</td><td>${actorLabel(e.actor)}</td></tr>`)}</tbody>
      </table></div>
      ${this.historyNext ? html`<button type="button" @click=${() => this.loadHistory(row, this.historyNext ?? undefined)}>Load more of this history</button>` : nothing}`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    const row = this.row;
    if (!row) return nothing;
    const ref = entityOf(row.resource);
    const data = row.data === undefined ? '' : prettyJson(JSON.stringify(row.data)) ?? JSON.stringify(row.data);
    return html`
      <div class="cols">
        <div>
          <h3>Event #${row.seq}</h3>
          <dl>
            <dt>Time</dt><dd>${formatTime(row.at)}</dd>
            <dt>Actor</dt><dd>${row.actor.id} <span class="muted">(${row.actor.kind})</span></dd>
            ${row.actor.ip ? html`<dt>Address</dt><dd class="mono">${row.actor.ip}</dd>` : nothing}
            ${row.actor.request_id ? html`<dt>Request</dt><dd class="mono">${row.actor.request_id}</dd>` : nothing}
            <dt>Type</dt><dd>${row.action}</dd>
            <dt>Entity</dt><dd>${ENTITY_LABELS[ref.kind]} <span class="mono">${ref.id || row.resource}</span></dd>
          </dl>
          <div class="actions">
            <button type="button" @click=${() => this.travel(row.seq - 1)} ?disabled=${row.seq <= 0}>State before (seq ${row.seq - 1})</button>
            <button type="button" @click=${() => this.travel(row.seq)}>State after (seq ${row.seq})</button>
          </div>
        </div>
        <div>
          <h3>Recorded data <span class="muted small">(secrets redacted)</span></h3>
          <pre data-testid="event-data">${data}</pre>
        </div>
      </div>
      <h3>Before and after</h3>
      ${this.renderChange(row)}
      <h3>History of ${row.resource}</h3>
      ${this.renderHistory(row)}`;
  }
}
customElements.define('mcm-audit-detail', McmAuditDetail);
