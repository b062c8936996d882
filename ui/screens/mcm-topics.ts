/**
 * Topic explorer (viewer): the live topic tree with counts, rates and the last payloads
 * (GET /topics?prefix=&depth=1 per level, updated at once by `topic_message` and reconciled with
 * the server every few seconds: it holds the exact counts and the rates), search by text or by
 * MQTT filter (validated as you type; a filter also narrows the live stream to it), the selected
 * topic's detail (components/topic-detail.ts), pause/resume of live updates, and for operators the
 * publish tool (components/topic-publish.ts).
 *
 * URL: /topics, or /topics/<one URL-encoded topic> to select a topic (a bookmark or a reload
 * brings it back; back and forward move between selected topics).
 */
import { css, html, nothing, unsafeCSS } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { topicText } from '../app/topic-text.ts';
import '../components/topic-detail.ts';
import '../components/topic-publish.ts';
import type { TopicDetail } from '../components/topic-detail.ts';
import type { TopicPublish } from '../components/topic-publish.ts';
import { LiveController } from '../controllers/live-controller.ts';
import { formatAgo, formatBytes, formatCount, formatRate, formatTime, truncate } from '../data/format.ts';
import type { LiveMessage } from '../data/live-client.ts';
import { topicFilterProblem } from '../data/topic-filter.ts';
import {
  createTopicSearchModel, createTopicTreeModel, type BrowseItem, type TopicMessage, type TopicSearchModel, type TopicSummary,
} from '../data/topic-tree-model.ts';

type TreeStats = { topics: number; max_topics: number; evicted: number; messages: number; bytes: number };
type BrowseResponse = { mode: 'browse'; prefix: string; items: BrowseItem[]; total: number; truncated: boolean; stats: TreeStats };
type SearchResponse = { mode: 'search'; items: TopicSummary[]; total: number; truncated: boolean; stats: TreeStats };

const RECONCILE_MS = 5000;
const SEARCH_LIMIT = 500;
const LEVEL_LIMIT = 500;
/** Expanded branches reloaded on each reconcile, at most. */
const MAX_RELOADED = 25;
const BASE = '/topics';
/** Indentation steps (classes lvl-0 … lvl-N; no inline styles under the CSP). */
const MAX_INDENT = 12;
const indentRules = unsafeCSS(Array.from({ length: MAX_INDENT + 1 }, (_, i) => `.lvl-${i} { padding-left: ${(i * 1.1).toFixed(1)}rem; }`).join('\n'));

/** The topic in a /topics/<encoded> path, or null. */
export const topicFromPath = (pathname: string): string | null => {
  if (!pathname.startsWith(`${BASE}/`)) return null;
  const raw = pathname.slice(BASE.length + 1);
  if (raw === '') return null;
  try { return decodeURIComponent(raw); } catch { return null; }
};

export class McmTopics extends McmScreen {
  static override styles = [...McmScreen.styles, indentRules, css`
    .layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(20rem, 2fr); gap: .9rem; align-items: start; }
    @media (max-width: 1100px) { .layout { grid-template-columns: minmax(0, 1fr); } }
    form.search { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-end; }
    form.search label { flex: 1 1 12rem; }
    .problem { margin: .2rem 0 0; }
    table { font-size: .95em; }
    td.num, th.num { text-align: right; white-space: nowrap; }
    td.name { min-width: 12rem; }
    .name-cell { display: flex; align-items: center; gap: .25rem; }
    .toggle { width: 1.7rem; height: 1.7rem; padding: 0; line-height: 1; flex: none; }
    .toggle-space { width: 1.7rem; flex: none; }
    button.topic { border: none; background: none; padding: .1rem .2rem; color: var(--accent); text-align: left; overflow-wrap: break-word; font: inherit; }
    button.branch { border: none; background: none; padding: .1rem .2rem; color: var(--fg); text-align: left; overflow-wrap: anywhere; font: inherit; }
    tr.selected { background: var(--bg-hover); }
    tr.live td:first-child { box-shadow: inset 3px 0 0 var(--accent); }
    td.preview { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85em; color: var(--fg-muted); overflow-wrap: anywhere; max-width: 18rem; }
    .side { display: flex; flex-direction: column; gap: .9rem; }
    .status { display: flex; gap: .8rem; flex-wrap: wrap; align-items: center; }
  `];

  static override properties = {
    ...McmScreen.properties,
    selected: { state: true },
    error: { state: true },
    loading: { state: true },
    stats: { state: true },
    paused: { state: true },
    missed: { state: true },
    qInput: { state: true },
    filterInput: { state: true },
    active: { state: true },
  };
  declare selected: string | null;
  declare error: string;
  declare loading: boolean;
  declare stats: TreeStats | null;
  declare paused: boolean;
  /** Topic messages ignored while paused. */
  declare missed: number;
  declare qInput: string;
  declare filterInput: string;
  /** The search in effect (null: browsing the tree). */
  declare active: { q: string; filter: string } | null;

  private readonly tree = createTopicTreeModel();
  private search: TopicSearchModel | null = null;
  /** Per load in flight, the messages that arrived meanwhile: replayed on top of its answer. */
  private readonly buffers = new Set<TopicMessage[]>();
  private loads = 0;
  private reconcileTimer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    super();
    this.selected = null;
    this.error = '';
    this.loading = true;
    this.stats = null;
    this.paused = false;
    this.missed = 0;
    this.qInput = '';
    this.filterInput = '';
    this.active = null;
    new LiveController(this, () => this.services?.live, { topic_message: (m) => this.onMessage(m) }, () => { void this.reload(); });
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.selected = topicFromPath(window.location.pathname);
    window.addEventListener('popstate', this.onPop);
    this.reconcileTimer = setInterval(() => {
      if (this.paused || document.visibilityState !== 'visible') return;
      void this.reload(true);
      // The selected topic's rate and ages, and its messages when a filter keeps them off the stream.
      void this.renderRoot.querySelector<TopicDetail>('topic-detail')?.load();
    }, RECONCILE_MS);
    void this.reload();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.onPop);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    this.reconcileTimer = null;
    // Other screens get every topic again.
    if (this.active?.filter) this.services.live.setTopicFilters(null);
  }

  private readonly onPop = (): void => {
    if (!window.location.pathname.startsWith(BASE)) return;
    this.selected = topicFromPath(window.location.pathname);
  };

  private onMessage(m: LiveMessage): void {
    if (typeof m['topic'] !== 'string') return;
    if (this.paused) {
      this.missed += 1;
      return;
    }
    const msg = m as unknown as TopicMessage;
    for (const b of this.buffers) b.push(msg);
    let isNew = false;
    if (this.active) this.search?.apply(msg);
    else isNew = this.tree.apply(msg) === 'new';
    // The totals follow too, until the next load brings the server's figures.
    if (this.stats) this.stats = { ...this.stats, messages: this.stats.messages + 1, bytes: this.stats.bytes + msg.bytes, topics: this.stats.topics + (isNew ? 1 : 0) };
  }

  /** Loads what is on screen: the search, or every loaded level of the tree. `quiet`: no spinner. */
  private async reload(quiet = false): Promise<void> {
    const api = this.services.api;
    const seq = ++this.loads;
    if (!quiet) this.loading = true;
    const buffer: TopicMessage[] = [];
    this.buffers.add(buffer);
    try {
      if (this.active) {
        const a = this.active;
        const res = await api.get<SearchResponse>(BASE, { q: a.q, filter: a.filter, limit: SEARCH_LIMIT });
        if (seq !== this.loads || a !== this.active) return;
        const model = this.search ?? createTopicSearchModel({ q: a.q, filter: a.filter }, SEARCH_LIMIT);
        model.set(res.items, res.total, res.truncated);
        for (const m of buffer) model.apply(m);
        this.search = model;
        this.stats = res.stats;
      } else {
        const prefixes = this.tree.loadedPrefixes().slice(0, MAX_RELOADED + 1);
        const answers = await Promise.all(prefixes.map((p) => api.get<BrowseResponse>(BASE, { prefix: p ?? '', depth: 1, limit: LEVEL_LIMIT })));
        if (seq !== this.loads || this.active) return;
        prefixes.forEach((p, i) => {
          const a = answers[i];
          if (a) this.tree.setLevel(p, a.items, a.truncated);
        });
        for (const m of buffer) this.tree.apply(m);
        const last = answers[answers.length - 1];
        if (last) this.stats = last.stats;
      }
      this.error = '';
    } catch (e) {
      if (seq === this.loads) this.error = this.errorText(e);
    } finally {
      this.buffers.delete(buffer);
      if (seq === this.loads) this.loading = false;
      this.requestUpdate();
    }
  }

  private async expand(path: string): Promise<void> {
    if (this.tree.isExpanded(path)) {
      this.tree.collapse(path);
      this.requestUpdate();
      return;
    }
    this.tree.expand(path);
    this.requestUpdate();
    const buffer: TopicMessage[] = [];
    this.buffers.add(buffer);
    try {
      const res = await this.services.api.get<BrowseResponse>(BASE, { prefix: path, depth: 1, limit: LEVEL_LIMIT });
      this.tree.setLevel(path, res.items, res.truncated);
      for (const m of buffer) this.tree.apply(m, path);
      this.stats = res.stats;
    } catch (e) {
      this.tree.collapse(path);
      this.error = this.errorText(e);
    } finally {
      this.buffers.delete(buffer);
    }
    this.requestUpdate();
  }

  private select(topic: string): void {
    this.selected = topic;
    const path = `${BASE}/${encodeURIComponent(topic)}`;
    // Same screen, another selection: a history entry (back returns to the previous topic) without
    // the shell's navigation, which would re-render the route and scroll to the top.
    if (window.location.pathname !== path) window.history.pushState(null, '', path);
  }

  private filterProblem(): string | null {
    const f = this.filterInput.trim();
    return f === '' ? null : topicFilterProblem(f);
  }

  private applySearch(e: Event): void {
    e.preventDefault();
    const q = this.qInput.trim();
    const filter = this.filterInput.trim();
    if (filter !== '' && topicFilterProblem(filter) !== null) return;
    const before = this.active?.filter ?? '';
    if (q === '' && filter === '') {
      this.clearSearch();
      return;
    }
    this.active = { q, filter };
    this.search = null;
    if (filter !== before) this.services.live.setTopicFilters(filter === '' ? null : [filter]);
    void this.reload();
  }

  private clearSearch(): void {
    const hadFilter = (this.active?.filter ?? '') !== '';
    this.qInput = '';
    this.filterInput = '';
    this.active = null;
    this.search = null;
    if (hadFilter) this.services.live.setTopicFilters(null);
    void this.reload();
  }

  private togglePause(): void {
    this.paused = !this.paused;
    if (!this.paused) {
      this.missed = 0;
      void this.reload();
    }
  }

  private onPublishTo(e: CustomEvent<{ topic: string }>): void {
    this.renderRoot.querySelector<TopicPublish>('topic-publish')?.useTopic(e.detail.topic);
  }

  private renderTree() {
    const rows = this.tree.rows();
    const now = this.services.now();
    if (rows.length === 0) {
      return this.loading ? html`<p class="muted">Loading…</p>`
        : html`<p class="muted">No message observed yet. Topics appear here live as soon as clients publish${this.services.can('operator') ? ' (or publish one with the form)' : ''}.</p>`;
    }
    return html`<div class="table-wrap"><table>
      <caption class="sr-only">Topic tree: expand a branch to see the levels below it; select a topic for its detail</caption>
      <thead><tr>
        <th scope="col">Topic</th><th scope="col" class="num">Topics</th><th scope="col" class="num">Messages</th>
        <th scope="col" class="num">Rate</th><th scope="col" class="num">Bytes</th><th scope="col">Last seen</th><th scope="col">Last payload</th>
      </tr></thead>
      <tbody>${rows.map(({ node: n, level, expanded, loading }) => {
        const label = n.name === '' ? '(empty level)' : n.name;
        const canExpand = n.hasChildren && n.path !== '';
        return html`<tr class="${n.path === this.selected ? 'selected' : ''} ${n.live ? 'live' : ''}" data-path=${n.path}>
          <td class="name"><div class="name-cell lvl-${Math.min(level, MAX_INDENT)}">
            ${canExpand ? html`<button type="button" class="toggle" aria-expanded=${expanded ? 'true' : 'false'} aria-label="${expanded ? 'Collapse' : 'Expand'} ${n.path}" @click=${() => this.expand(n.path)}>${expanded ? '▾' : '▸'}</button>` : html`<span class="toggle-space"></span>`}
            ${n.isTopic
              ? html`<button type="button" class="topic" aria-current=${n.path === this.selected ? 'true' : 'false'} title="Show ${n.path}" @click=${() => this.select(n.path)}>${label}</button>`
              : canExpand ? html`<button type="button" class="branch" tabindex="-1" @click=${() => this.expand(n.path)}>${label}</button>` : html`<span class="branch">${label}</span>`}
            ${n.isTopic && n.retained ? html`<span class="badge" title="The broker holds a retained message for ${n.path}: new subscribers get it at once">retained</span>` : nothing}
            ${loading ? html`<span class="small muted">loading…</span>` : nothing}
          </div></td>
          <td class="num">${formatCount(n.topics)}</td>
          <td class="num">${formatCount(n.messages)}</td>
          <td class="num">${formatRate(n.rate)}</td>
          <td class="num">${formatBytes(n.bytes)}</td>
          <td><time datetime=${n.lastSeen} title=${formatTime(n.lastSeen)}>${formatAgo(n.lastSeen, now)}</time></td>
          <td class="preview">${n.preview !== null ? truncate(n.preview.replace(/\s+/g, ' '), 80) : nothing}</td>
        </tr>`;
      })}</tbody>
    </table></div>
    ${this.tree.truncated(null) ? html`<p class="small muted">Only the first ${LEVEL_LIMIT} items of a level are listed: search to narrow it.</p>` : nothing}`;
  }

  private renderSearch() {
    const s = this.search;
    if (!s) return this.error ? nothing : html`<p class="muted">Searching…</p>`;
    const rows = s.rows();
    const now = this.services.now();
    if (rows.length === 0) return html`<p class="muted">No observed topic matches. Matching topics appear here live as soon as a message arrives on one.</p>`;
    return html`<p class="small muted">${formatCount(s.total())} matching topic${s.total() === 1 ? '' : 's'}${s.truncated() ? html`, the first ${formatCount(rows.length)} shown` : ''}.</p>
    <div class="table-wrap"><table>
      <caption class="sr-only">Matching topics</caption>
      <thead><tr><th scope="col">Topic</th><th scope="col" class="num">Messages</th><th scope="col" class="num">Rate</th><th scope="col" class="num">Bytes</th><th scope="col">Last seen</th><th scope="col">Last payload</th></tr></thead>
      <tbody>${rows.map((r) => html`<tr class="${r.topic === this.selected ? 'selected' : ''} ${r.live ? 'live' : ''}" data-path=${r.topic}>
        <td class="name"><button type="button" class="topic" aria-current=${r.topic === this.selected ? 'true' : 'false'} title=${r.topic} @click=${() => this.select(r.topic)}>${topicText(r.topic)}</button>${r.retained ? html` <span class="badge">retained</span>` : nothing}</td>
        <td class="num">${formatCount(r.messages)}</td>
        <td class="num">${formatRate(r.rate)}</td>
        <td class="num">${formatBytes(r.bytes)}</td>
        <td><time datetime=${r.last_seen} title=${formatTime(r.last_seen)}>${formatAgo(r.last_seen, now)}</time></td>
        <td class="preview">${r.preview !== null ? truncate(r.preview.replace(/\s+/g, ' '), 80) : nothing}</td>
      </tr>`)}</tbody>
    </table></div>`;
  }

  override render() {
    const problem = this.filterProblem();
    const live = this.services.live.state();
    const st = this.stats;
    return html`
      <h1>Topics</h1>
      ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
      <section class="card" aria-label="Search topics">
        <form class="search" role="search" @submit=${(e: Event) => this.applySearch(e)}>
          <label>Topic contains
            <input type="search" name="q" .value=${this.qInput} autocomplete="off" spellcheck="false" placeholder="e.g. temp"
              @input=${(e: Event) => { this.qInput = (e.target as HTMLInputElement).value; }}>
          </label>
          <label>MQTT filter
            <input type="text" name="filter" .value=${this.filterInput} autocomplete="off" spellcheck="false" placeholder="e.g. plant/+/temp"
              aria-invalid=${problem ? 'true' : 'false'} aria-describedby="filter-help"
              @input=${(e: Event) => { this.filterInput = (e.target as HTMLInputElement).value; }}>
          </label>
          <div class="actions">
            <button type="submit" class="primary" ?disabled=${problem !== null} aria-describedby=${problem === null ? nothing : 'filter-help'}>Search</button>
            ${this.active ? html`<button type="button" @click=${() => this.clearSearch()}>Show the whole tree</button>` : nothing}
          </div>
        </form>
        <p id="filter-help" class="problem small ${problem ? 'error' : 'muted'}" aria-live="polite">${problem ? `Invalid filter: ${problem}.` : 'A filter such as plant/+/temp or plant/# also narrows the live stream to it.'}</p>
      </section>
      <div class="toolbar status">
        <button type="button" aria-pressed=${this.paused ? 'true' : 'false'} @click=${() => this.togglePause()}>${this.paused ? 'Resume live updates' : 'Pause live updates'}</button>
        <span role="status" class="small ${this.paused ? 'warn' : 'muted'}">${this.paused
          ? `Paused: ${formatCount(this.missed)} message${this.missed === 1 ? '' : 's'} not shown.`
          : live === 'open' ? 'Live.' : `Live connection ${live}.`}</span>
        <span class="spacer"></span>
        ${st ? html`<span class="small muted">${formatCount(st.topics)} topics · ${formatCount(st.messages)} messages${st.evicted > 0 ? html` · ${formatCount(st.evicted)} evicted (limit ${formatCount(st.max_topics)})` : ''}</span>` : nothing}
        ${this.active ? html`<span class="badge">${this.active.filter ? `filter ${this.active.filter}` : ''}${this.active.filter && this.active.q ? ' · ' : ''}${this.active.q ? `contains “${this.active.q}”` : ''}</span>` : nothing}
      </div>
      <div class="layout">
        <section class="card" aria-label=${this.active ? 'Matching topics' : 'Topic tree'}>
          ${this.active ? this.renderSearch() : this.renderTree()}
        </section>
        <div class="side" @publish-to=${(e: CustomEvent<{ topic: string }>) => this.onPublishTo(e)}>
          <section class="card" aria-label="Topic detail">
            ${this.selected !== null
              ? html`<topic-detail .services=${this.services} .topic=${this.selected} ?paused=${this.paused}></topic-detail>`
              : html`<p class="muted">Select a topic to see its last payload, history${this.services.can('operator') ? ' and actions' : ''}.</p>`}
          </section>
          <section class="card" aria-labelledby="pub-h">
            <h2 id="pub-h">Publish a message</h2>
            <topic-publish .services=${this.services}></topic-publish>
          </section>
        </div>
      </div>
    `;
  }
}
customElements.define('mcm-topics', McmTopics);
