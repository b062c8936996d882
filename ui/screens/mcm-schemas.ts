/**
 * JSON schemas (DESIGN §5, §7): a JSON Schema attached to a topic filter, checked by MCM's
 * observer on every payload it sees (observe-only: the broker does not enforce it). Auditors see
 * the list with live counters (valid / invalid, last violation with its errors); operators attach
 * (the schema is edited as JSON text, parsed before sending; the server compiles it with ajv and
 * its errors are shown), edit, enable/disable and detach.
 */
import { css, html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { ApiError } from '../data/api-client.ts';
import { fetchAll, ruleTopicProblem, type Page } from '../data/access-model.ts';
import { formatAgo, formatCount, formatTime } from '../data/format.ts';
import {
  applyViolation, detailLines, invalidShare, mergeSchemaList, parseSchemaText, parseViolationMessage, SCHEMA_TEMPLATE, type JsonSchemaItem,
} from '../data/schema-model.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import { topicField, topicFieldStyles } from '../components/access-topic-field.ts';
import { describedBy, whyDisabled } from '../app/why-disabled.ts';

const POLL_MS = 5000;

type Draft = { id: number | null; name: string; filter: string; description: string; enabled: boolean; text: string };

const emptyDraft = (): Draft => ({ id: null, name: '', filter: '', description: '', enabled: true, text: SCHEMA_TEMPLATE });

export class McmSchemas extends McmScreen {
  static override styles = [...McmScreen.styles, topicFieldStyles, css`
    .form-grid { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-start; }
    .form-grid > label { flex: 1 1 12rem; }
    textarea { min-height: 12rem; }
    .problem { margin: .2rem 0 0; font-size: .85em; color: var(--danger); }
    .schemas { display: flex; flex-direction: column; gap: .8rem; }
    .schema header { display: flex; flex-wrap: wrap; gap: .5rem; align-items: baseline; }
    .schema header h3 { margin: 0; }
    .counters { display: flex; flex-wrap: wrap; gap: 1.4rem; margin: .5rem 0; }
    .counter { display: flex; flex-direction: column; }
    .counter .n { font-size: 1.3rem; font-weight: 700; font-variant-numeric: tabular-nums; }
    .counter .n.bad { color: var(--danger); }
    .violation { border-left: 3px solid var(--danger); padding-left: .6rem; margin-top: .4rem; }
    .violation ul { margin: .2rem 0; padding-left: 1.2rem; }
    .flash { animation: flash 1.2s ease-out; }
    @keyframes flash { from { background: var(--danger-bg); } to { background: var(--bg-raised); } }
    @media (prefers-reduced-motion: reduce) { .flash { animation: none; } }
  `];

  static override properties = {
    ...McmScreen.properties,
    items: { state: true },
    truncated: { state: true },
    loading: { state: true },
    error: { state: true },
    draft: { state: true },
    formError: { state: true },
    formDetails: { state: true },
    busy: { state: true },
    shown: { state: true },
    flashed: { state: true },
  };
  declare items: JsonSchemaItem[];
  declare truncated: boolean;
  declare loading: boolean;
  declare error: string;
  /** The attach form (id null) or the schema being edited. */
  declare draft: Draft;
  declare formError: string;
  declare formDetails: string[];
  declare busy: boolean;
  /** Schemas whose JSON is shown. */
  declare shown: ReadonlySet<number>;
  declare flashed: number | null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    super();
    this.items = [];
    this.truncated = false;
    this.loading = true;
    this.error = '';
    this.draft = emptyDraft();
    this.formError = '';
    this.formDetails = [];
    this.busy = false;
    this.shown = new Set();
    this.flashed = null;
    new LiveController(this, () => this.services?.live, {
      schema_violation: (m) => {
        const v = parseViolationMessage(m);
        if (!v) return;
        this.items = applyViolation(this.items, v.schemaId, v.violation);
        this.flashed = v.schemaId;
      },
    }, () => { void this.load(); });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
    // The valid counts have no live message: read them again while the page is visible.
    this.timer = setInterval(() => { if (document.visibilityState === 'visible') void this.load(); }, POLL_MS);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private async load(): Promise<void> {
    try {
      const all = await fetchAll<JsonSchemaItem>((p, q) => this.services.api.get<Page<JsonSchemaItem>>(p, q), '/json-schemas');
      this.items = mergeSchemaList(this.items, all.items);
      this.truncated = all.truncated;
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.loading = false;
    }
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const d = this.draft;
    const parsed = parseSchemaText(d.text);
    if (!parsed.ok || ruleTopicProblem(d.filter) || d.name.trim() === '') return;
    this.busy = true;
    this.formError = '';
    this.formDetails = [];
    const body = { name: d.name.trim(), topic_filter: d.filter, schema: parsed.value, enabled: d.enabled, description: d.description.trim() };
    try {
      if (d.id === null) await this.services.api.post('/json-schemas', body);
      else await this.services.api.put(`/json-schemas/${d.id}`, body);
      this.services.notify({ kind: 'ok', text: `Schema ${body.name} ${d.id === null ? 'attached to' : 'saved for'} ${body.topic_filter}.` });
      this.draft = emptyDraft();
      await this.load();
    } catch (err) {
      this.formError = this.errorText(err);
      this.formDetails = err instanceof ApiError ? detailLines(err.details) : [];
    } finally {
      this.busy = false;
    }
  }

  private async setEnabled(s: JsonSchemaItem, enabled: boolean): Promise<void> {
    this.busy = true;
    try {
      await this.services.api.put(`/json-schemas/${s.id}`, { enabled });
      await this.load();
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private async detach(s: JsonSchemaItem): Promise<void> {
    const ok = await confirmDialog({
      title: `Detach schema ${s.name}?`,
      message: `Payloads on ${s.topic_filter} are no longer checked against it, and its counters are dropped.`,
      confirm: 'Detach',
    });
    if (!ok) return;
    this.busy = true;
    try {
      await this.services.api.del(`/json-schemas/${s.id}`);
      if (this.draft.id === s.id) this.draft = emptyDraft();
      await this.load();
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private edit(s: JsonSchemaItem): void {
    this.draft = { id: s.id, name: s.name, filter: s.topic_filter, description: s.description, enabled: s.enabled, text: JSON.stringify(s.schema, null, 2) };
    this.formError = '';
    this.formDetails = [];
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLElement>('#schema-form-h')?.scrollIntoView({ block: 'start' }));
  }

  private toggleShown(id: number): void {
    const next = new Set(this.shown);
    if (next.has(id)) next.delete(id); else next.add(id);
    this.shown = next;
  }

  private renderForm() {
    if (!this.services.can('operator')) {
      return html`<p class="banner warn" data-testid="readonly-reason">You can read the schemas and their counters; attaching and changing them ${this.services.whyNot('operator')}.</p>`;
    }
    const d = this.draft;
    const set = (patch: Partial<Draft>) => { this.draft = { ...d, ...patch }; };
    const parsed = parseSchemaText(d.text);
    const filterProblem = ruleTopicProblem(d.filter);
    const editing = d.id !== null;
    const submitWhy = d.name.trim() === '' ? 'Give the schema a name first.'
      : filterProblem !== null ? `The topic filter is not valid: ${filterProblem}.`
        : !parsed.ok ? 'The schema is not valid JSON yet (see above).' : null;
    return html`<section class="card" aria-labelledby="schema-form-h">
      <h2 id="schema-form-h">${editing ? `Edit schema ${d.id}` : 'Attach a JSON Schema'}</h2>
      <form class="stack" aria-labelledby="schema-form-h" @submit=${(e: SubmitEvent) => this.submit(e)}>
        <div class="form-grid">
          <label>Name <input .value=${d.name} required maxlength="128" autocomplete="off" @input=${(e: Event) => set({ name: (e.target as HTMLInputElement).value })}></label>
          ${topicField({ id: 'schema-filter', label: 'Topic filter', value: d.filter, problem: filterProblem, onInput: (v) => set({ filter: v }), required: true, placeholder: 'plant/+/telemetry' })}
          <label>Description <input .value=${d.description} maxlength="1024" @input=${(e: Event) => set({ description: (e.target as HTMLInputElement).value })}></label>
        </div>
        <label class="inline"><input type="checkbox" .checked=${d.enabled} @change=${(e: Event) => set({ enabled: (e.target as HTMLInputElement).checked })}> Enabled (check payloads now)</label>
        <div>
          <label for="schema-text">JSON Schema <span class="muted small">(draft-07 by default; 2019-09 or 2020-12 with "$schema")</span></label>
          <textarea id="schema-text" .value=${d.text} spellcheck="false" aria-invalid=${parsed.ok ? 'false' : 'true'}
            aria-describedby=${parsed.ok ? 'schema-text-ok' : 'schema-text-problem'}
            @input=${(e: Event) => set({ text: (e.target as HTMLTextAreaElement).value })}></textarea>
          ${parsed.ok
            ? html`<p class="muted small" id="schema-text-ok">Valid JSON. The server compiles it when you save.</p>`
            : html`<p class="problem" id="schema-text-problem" data-testid="schema-parse-problem">${parsed.problem}</p>`}
        </div>
        ${this.formError ? html`<div class="banner error" role="alert">${this.formError}
          ${this.formDetails.length > 0 ? html`<ul>${this.formDetails.map((l) => html`<li>${l}</li>`)}</ul>` : ''}</div>` : ''}
        <div class="actions">
          <button class="primary" type="submit" ?disabled=${this.busy || submitWhy !== null} aria-describedby=${describedBy('schema-submit-why', submitWhy)}>${editing ? 'Save schema' : 'Attach schema'}</button>
          ${whyDisabled('schema-submit-why', submitWhy)}
          ${editing ? html`<button type="button" @click=${() => { this.draft = emptyDraft(); this.formError = ''; this.formDetails = []; }}>Cancel</button>` : ''}
        </div>
      </form>
    </section>`;
  }

  private renderSchema(s: JsonSchemaItem) {
    const write = this.services.can('operator');
    const hasStats = s.valid_count !== undefined;
    const v = s.last_violation ?? null;
    const open = this.shown.has(s.id);
    return html`<article class="card schema ${this.flashed === s.id ? 'flash' : ''}" aria-labelledby="schema-${s.id}-h" data-schema-id=${s.id}
        @animationend=${() => { if (this.flashed === s.id) this.flashed = null; }}>
      <header>
        <h3 id="schema-${s.id}-h">${s.name}</h3>
        <code>${s.topic_filter}</code>
        ${s.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge warn">disabled</span>`}
        <span class="spacer"></span>
        ${write ? html`<div class="actions">
          <button type="button" aria-label="Edit schema ${s.name}" ?disabled=${this.busy} @click=${() => this.edit(s)}>Edit</button>
          <button type="button" aria-label="${s.enabled ? 'Disable' : 'Enable'} schema ${s.name}" ?disabled=${this.busy} @click=${() => this.setEnabled(s, !s.enabled)}>${s.enabled ? 'Disable' : 'Enable'}</button>
          <button type="button" class="danger" aria-label="Detach schema ${s.name}" ?disabled=${this.busy} @click=${() => this.detach(s)}>Detach</button>
        </div>` : ''}
      </header>
      ${s.description ? html`<p class="muted">${s.description}</p>` : ''}
      ${hasStats ? html`<div class="counters" aria-label="Counters of ${s.name}">
          <div class="counter"><span class="muted small">Valid</span><span class="n" data-testid="valid-count">${formatCount(s.valid_count)}</span></div>
          <div class="counter"><span class="muted small">Invalid</span><span class="n ${(s.invalid_count ?? 0) > 0 ? 'bad' : ''}" data-testid="invalid-count">${formatCount(s.invalid_count)}</span></div>
          <div class="counter"><span class="muted small">Invalid share</span><span class="n">${invalidShare(s)}</span></div>
        </div>`
        : html`<p class="muted small">No counters: MCM's observer is not running, so no payload is checked.</p>`}
      ${v ? html`<div class="violation" data-testid="last-violation">
          <strong>Last violation</strong> <span class="muted small" title=${formatTime(v.at)}>${formatAgo(v.at, this.services.now())}</span> on <code>${v.topic}</code>
          <ul>${v.errors.map((e) => html`<li><code>${e.path}</code> ${e.message}</li>`)}</ul>
          ${v.payload_preview ? html`<pre aria-label="Payload of the last violation">${v.payload_preview}</pre>` : ''}
        </div>`
        : hasStats ? html`<p class="muted small">No violation ${s.enabled ? 'seen yet' : '(disabled: payloads are not checked)'}.</p>` : ''}
      <button type="button" class="link" aria-expanded=${open ? 'true' : 'false'} @click=${() => this.toggleShown(s.id)}>${open ? 'Hide' : 'Show'} the schema</button>
      ${open ? html`<pre>${JSON.stringify(s.schema, null, 2)}</pre>` : ''}
    </article>`;
  }

  override render() {
    return html`
      <h1>JSON schemas</h1>
      <p class="muted">Payloads on a topic filter are checked against its schema as MCM observes them. Observe-only: the broker still delivers invalid messages; violations show here and as live events.</p>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
      ${this.renderForm()}
      <h2>Attached schemas</h2>
      ${this.loading ? html`<p class="muted" role="status">Loading schemas…</p>`
        : this.items.length === 0 ? html`<p class="muted">No schemas yet. ${this.services.can('operator') ? 'Attach one above to check payloads on a topic filter.' : 'An operator can attach them.'}</p>`
        : html`${this.truncated ? html`<p class="muted small">Only the first ${this.items.length} schemas are loaded.</p>` : ''}
          <div class="schemas">${this.items.map((s) => this.renderSchema(s))}</div>`}`;
  }
}
customElements.define('mcm-schemas', McmSchemas);
