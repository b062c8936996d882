/**
 * One topic in the topic explorer: counts and rate, the last payload (pretty JSON when it is
 * JSON), the recent history, the JSON-schema violations pushed live for it, the decoded metrics
 * of a Sparkplug B node or device (GET /sparkplug/nodes: the payload itself is protobuf), and
 * "Delete retained" for operators. Loaded with GET /topics/{topic} and refreshed (throttled) when
 * a message for the topic arrives, unless live updates are paused.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import type { Services } from '../app/services.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { ApiError, topicPath } from '../data/api-client.ts';
import { formatAgo, formatBytes, formatCount, formatRate, formatTime, prettyJson, truncate } from '../data/format.ts';
import { findSparkplug, parseSparkplugTopic, type SparkplugMatch, type SparkplugMetric, type SparkplugNodeList, type SparkplugRef } from '../data/topic-sparkplug.ts';
import type { PreviewKind, TopicSummary } from '../data/topic-tree-model.ts';
import { shared } from '../styles/theme.ts';
import { confirmDialog } from './mcm-confirm.ts';
import './mcm-copy-button.ts';

export type MessageView = { at: string; bytes: number; qos: 0 | 1 | 2; retain: boolean; preview: string; preview_kind: PreviewKind; truncated: boolean };
export type TopicDetailData = TopicSummary & { first_seen: string; last: MessageView; history: MessageView[] };
type Violation = { schema_id: number; schema_name: string; errors: { path: string; message: string }[]; at: string };

const REFRESH_MS = 400;
const MAX_VIOLATIONS = 10;

const errorText = (err: unknown): string => {
  const e = err as { message?: string; code?: string };
  return e?.message ? (e.code && !e.code.startsWith('HTTP_') ? `${e.message} (${e.code})` : e.message) : String(err);
};

const payloadText = (m: MessageView): string => (m.preview_kind === 'json' ? prettyJson(m.preview) ?? m.preview : m.preview);

const metricValue = (v: SparkplugMetric['value']): string => (v === null ? '—' : typeof v === 'number' ? String(v) : typeof v === 'boolean' ? (v ? 'true' : 'false') : v);

export class TopicDetail extends LitElement {
  static override styles = [shared, css`
    :host { display: block; }
    .head { display: flex; align-items: flex-start; gap: .5rem; flex-wrap: wrap; }
    .head h2 { margin: 0; overflow-wrap: anywhere; flex: 1 1 12rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .6rem 0; }
    dt { color: var(--fg-muted); }
    dd { margin: 0; }
    pre.payload { white-space: pre-wrap; overflow-wrap: anywhere; }
    td.preview { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; }
    /* Issue 16: the history is a compact list that scrolls in its own box, one line per message. */
    ol.history { list-style: none; margin: .3rem 0; padding: 0; max-height: 16rem; overflow-y: auto; border: 1px solid var(--border); border-radius: 6px; }
    ol.history li { display: grid; grid-template-columns: auto auto minmax(0, 1fr); gap: .6rem; align-items: baseline; padding: .2rem .5rem; border-bottom: 1px solid var(--border); font-size: .9em; }
    ol.history li:last-child { border-bottom: none; }
    ol.history .meta { color: var(--fg-muted); white-space: nowrap; }
    ol.history .preview { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
    .errors { margin: .3rem 0 0; padding-left: 1.2rem; }
  `];

  static override properties = {
    services: { attribute: false },
    topic: {},
    paused: { type: Boolean },
    detail: { state: true },
    error: { state: true },
    notFound: { state: true },
    sparkplug: { state: true },
    sparkplugError: { state: true },
    violations: { state: true },
    deleting: { state: true },
  };
  declare services: Services;
  declare topic: string;
  declare paused: boolean;
  declare detail: TopicDetailData | null;
  declare error: string;
  declare notFound: boolean;
  declare sparkplug: SparkplugMatch | null;
  declare sparkplugError: string;
  declare violations: Violation[];
  declare deleting: boolean;

  private timer: ReturnType<typeof setTimeout> | null = null;
  private loadSeq = 0;
  private sparkRef: SparkplugRef | null = null;

  constructor() {
    super();
    this.topic = '';
    this.paused = false;
    this.detail = null;
    this.error = '';
    this.notFound = false;
    this.sparkplug = null;
    this.sparkplugError = '';
    this.violations = [];
    this.deleting = false;
    new LiveController(this, () => this.services?.live, {
      topic_message: (m) => { if (m['topic'] === this.topic && !this.paused) this.schedule(); },
      schema_violation: (m) => {
        if (m['topic'] !== this.topic) return;
        const v: Violation = { schema_id: Number(m['schema_id']), schema_name: String(m['schema_name'] ?? ''), errors: (m['errors'] as Violation['errors']) ?? [], at: String(m.at ?? '') };
        this.violations = [v, ...this.violations].slice(0, MAX_VIOLATIONS);
      },
      sparkplug_state: (m) => {
        const r = this.sparkRef;
        if (r && r.kind !== 'state' && m['group'] === r.group && m['edge_node'] === r.edgeNode && !this.paused) this.schedule();
      },
    });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('topic')) {
      this.detail = null;
      this.error = '';
      this.notFound = false;
      this.sparkplug = null;
      this.sparkplugError = '';
      this.violations = [];
      this.sparkRef = parseSparkplugTopic(this.topic);
      void this.load();
    } else if (changed.has('paused') && !this.paused && changed.get('paused') === true) {
      void this.load();
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.load();
    }, REFRESH_MS);
  }

  /** Reloads the detail (and the Sparkplug view); an answer for a topic no longer shown is dropped. */
  async load(): Promise<void> {
    if (!this.topic || !this.services) return;
    const seq = ++this.loadSeq;
    const topic = this.topic;
    const api = this.services.api;
    const spark = this.sparkRef;
    const [d, s] = await Promise.allSettled([
      api.get<TopicDetailData>(topicPath('/topics', topic)),
      spark ? api.get<SparkplugNodeList>('/sparkplug/nodes') : Promise.resolve(null),
    ]);
    if (seq !== this.loadSeq || topic !== this.topic) return;
    if (d.status === 'fulfilled') {
      this.detail = d.value;
      this.error = '';
      this.notFound = false;
    } else if (d.reason instanceof ApiError && d.reason.status === 404) {
      this.detail = null;
      this.notFound = true;
      this.error = '';
    } else {
      this.error = errorText(d.reason);
    }
    if (spark) {
      if (s.status === 'fulfilled' && s.value) {
        this.sparkplug = findSparkplug(s.value, spark);
        this.sparkplugError = '';
      } else if (s.status === 'rejected') this.sparkplugError = errorText(s.reason);
    }
  }

  private async deleteRetained(): Promise<void> {
    const topic = this.topic;
    const ok = await confirmDialog({
      title: 'Delete the retained message?',
      message: `The broker drops the retained message on “${topic}”: new subscribers no longer get it. This is recorded in the audit log.`,
      confirm: 'Delete retained',
    });
    if (!ok) return;
    this.deleting = true;
    try {
      await this.services.api.del(topicPath('/retained', topic));
      this.services.notify({ kind: 'ok', text: `Retained message on ${topic} deleted.` });
      await this.load();
    } catch (e) {
      this.services.notify({ kind: 'error', text: `Delete retained failed: ${errorText(e)}` });
    } finally {
      this.deleting = false;
    }
  }

  private usePublish(): void {
    this.dispatchEvent(new CustomEvent('publish-to', { detail: { topic: this.topic }, bubbles: true, composed: true }));
  }

  private renderSparkplug() {
    if (!this.sparkRef) return nothing;
    const m = this.sparkplug;
    const metrics = (list: readonly SparkplugMetric[]) => list.length === 0 ? html`<p class="muted">No metrics known yet (they are named by the birth message).</p>` : html`<div class="table-wrap"><table>
      <thead><tr><th scope="col">Metric</th><th scope="col">Type</th><th scope="col">Value</th><th scope="col">Updated</th></tr></thead>
      <tbody>${list.map((x) => html`<tr>
        <td><code>${x.name || (x.alias !== null ? `alias ${x.alias}` : '—')}</code>${x.stale ? html` <span class="badge warn" title="Set by a death: the last known value">stale</span>` : nothing}</td>
        <td>${x.type ?? '—'}</td>
        <td><code>${metricValue(x.value)}</code></td>
        <td>${x.updated_at ? html`<time datetime=${x.updated_at} title=${formatTime(x.updated_at)}>${formatAgo(x.updated_at, this.services.now())}</time>` : '—'}</td>
      </tr>`)}</tbody></table></div>`;
    const stateBadge = (s: string) => html`<span class="badge ${s === 'online' ? 'ok' : s === 'offline' ? 'error' : 'warn'}">${s}</span>`;
    return html`<section aria-labelledby="sp-h">
      <h3 id="sp-h">Sparkplug B</h3>
      ${this.sparkplugError ? html`<p class="banner error" role="alert">${this.sparkplugError}</p>` : nothing}
      ${m === null ? (this.sparkplugError ? nothing : html`<p class="muted">Loading…</p>`)
        : m.kind === 'unknown' ? html`<p class="muted">The Sparkplug tracker has not seen this ${this.sparkRef.kind === 'state' ? 'host application' : this.sparkRef.kind} yet.</p>`
          : m.kind === 'state' ? html`<p>Host application <code>${m.host.host_id}</code> ${m.host.online ? html`<span class="badge ok">online</span>` : html`<span class="badge error">offline</span>`} (Sparkplug ${m.host.version}).</p>`
            : m.kind === 'node' ? html`<p>Edge node <code>${m.node.group}/${m.node.edge_node}</code> ${stateBadge(m.node.state)} · ${formatCount(m.node.messages)} messages · seq gaps ${m.node.seq_gaps}${m.node.bd_seq !== null ? html` · bdSeq ${m.node.bd_seq}` : nothing}</p>${metrics(m.node.metrics)}`
              : html`<p>Device <code>${m.node.group}/${m.node.edge_node}/${m.device.device}</code> ${stateBadge(m.device.state)} · ${formatCount(m.device.messages)} messages</p>${metrics(m.device.metrics)}`}
    </section>`;
  }

  private renderViolations() {
    if (this.violations.length === 0) return nothing;
    return html`<section aria-labelledby="schema-h">
      <h3 id="schema-h">JSON schema violations <span class="badge error">${this.violations.length}</span></h3>
      <p class="small muted">Reported live while this page is open (schemas are checked on every observed message).</p>
      <ul>${this.violations.map((v) => html`<li><strong>${v.schema_name}</strong> <span class="small muted">(${formatAgo(v.at, this.services.now())})</span>
        <ul class="errors">${v.errors.map((e) => html`<li><code>${e.path || '/'}</code>: ${e.message}</li>`)}</ul></li>`)}</ul>
    </section>`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    if (!this.topic) return nothing;
    const d = this.detail;
    const operator = this.services.can('operator');
    const why = this.services.whyNot('operator');
    const now = this.services.now();
    return html`<div class="head">
        <h2 data-testid="detail-topic"><code>${this.topic}</code></h2>
        <mcm-copy-button .value=${this.topic} label="Copy topic"></mcm-copy-button>
      </div>
      ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
      ${this.notFound ? html`<p class="muted" role="status">No message seen on this topic yet (or it was evicted from the bounded tree). It shows up here as soon as one arrives.</p>` : nothing}
      ${d ? html`
        <p class="actions">
          ${d.retained ? html`<span class="badge">retained</span>` : nothing}
          <span class="badge">QoS ${d.qos}</span>
          <span class="badge">${d.last.preview_kind}</span>
          ${this.paused ? html`<span class="badge warn">paused</span>` : nothing}
        </p>
        <dl>
          <dt>Messages</dt><dd>${formatCount(d.messages)} (${formatBytes(d.bytes)})</dd>
          <dt>Rate</dt><dd>${formatRate(d.rate)} <span class="muted small">over the last minute</span></dd>
          <dt>Last seen</dt><dd><time datetime=${d.last_seen} title=${formatTime(d.last_seen)}>${formatAgo(d.last_seen, now)}</time></dd>
          <dt>First seen</dt><dd><time datetime=${d.first_seen} title=${formatTime(d.first_seen)}>${formatAgo(d.first_seen, now)}</time></dd>
        </dl>
        <h3>Last payload <span class="small muted">${formatBytes(d.last.bytes)}${d.last.truncated ? ', cut' : ''}</span></h3>
        ${d.last.bytes === 0 ? html`<p class="muted">Empty payload.</p>` : html`<pre class="payload" data-testid="payload">${payloadText(d.last)}</pre>`}
        <div class="actions">
          ${operator ? html`<button type="button" @click=${() => this.usePublish()}>Publish to this topic…</button>` : nothing}
          ${d.retained ? html`<button type="button" class="danger" ?disabled=${!operator || this.deleting} title=${why ?? 'Clear the retained message on this topic'} @click=${() => this.deleteRetained()}>${this.deleting ? 'Deleting…' : 'Delete retained'}</button>` : nothing}
        </div>
        ${d.retained && why ? html`<p class="small muted">Deleting the retained message ${why}.</p>` : nothing}
        ${this.renderViolations()}
        ${this.renderSparkplug()}
        <h3>Recent messages</h3>
        ${d.history.length === 0 ? html`<p class="muted">No history kept (observer.history_depth is 0).</p>` : html`
          <ol class="history" tabindex="0" aria-label="Recent messages on ${d.topic}, newest first">${[...d.history].reverse().map((h) => html`<li>
            <time datetime=${h.at} title=${formatTime(h.at)}>${formatTime(h.at).slice(11)}</time>
            <span class="meta">${formatBytes(h.bytes)} · QoS ${h.qos}${h.retain ? html` · <span class="badge">retained</span>` : nothing}</span>
            <code class="preview" title=${truncate(h.preview, 500)}>${truncate(h.preview.replace(/\s+/g, ' '), 160)}</code>
          </li>`)}</ol>`}
      ` : this.notFound ? this.renderSparkplug() : this.error ? nothing : html`<p class="muted">Loading…</p>`}
    `;
  }
}
customElements.define('topic-detail', TopicDetail);
