/**
 * Import (admin, issue 11 "Adopt an existing Mosquitto"): bring an existing broker's
 * password_file and acl_file into MCM without losing a user. The admin picks the source — the
 * files MCM is configured with (the server reads them) or pasted / uploaded contents — and plans
 * (POST /import mode plan: nothing changes): the summary counts, the first differences, every
 * warning (hashes a 2.0 broker cannot read, patterns 2.1 reads differently…), or, for a refused
 * file, each bad line with its file and line number. Apply needs an explicit confirmation and
 * carries the plan's seq (a change in between answers 412: plan again); then the outcome and
 * the apply status (pending → applied) are shown, and the adoption banner goes away.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import '../components/access-apply-status.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import { adoptionRequired, parseApplyStatus, type ApplyStatus } from '../data/access-apply.ts';
import { versionLabel } from '../data/broker-view.ts';
import {
  applyWouldDo, confirmText, differencesNote, fileLabel, groupWarnings, importRequest, runImport, shortHash, sourceProblem, summaryRows, where,
  type ImportOutcome, type ImportPlanView, type ImportSource,
} from '../data/import-model.ts';

/** Warnings shown per group before "Show all" (a 100,000-user file can warn on every line). */
const GROUP_PREVIEW = 50;

export class McmImport extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    section.card { margin-bottom: 1rem; }
    fieldset { border: 1px solid var(--border); border-radius: 8px; padding: .5rem .8rem; margin: 0 0 .8rem; min-width: 0; }
    legend { font-weight: 500; padding: 0 .3rem; }
    .choices { display: flex; flex-direction: column; gap: .35rem; }
    .choices label { font-weight: 400; align-items: flex-start; }
    .choices input[type='radio'] { flex: none; margin: .25rem 0 0; }
    .files { display: grid; gap: .8rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 20rem), 1fr)); margin-bottom: .8rem; }
    .files textarea { min-height: 10rem; }
    .upload { font-weight: 400; font-size: .9em; }
    .upload input { max-width: 100%; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .8rem; margin: .3rem 0; }
    dt { color: var(--fg-muted); }
    dd { margin: 0; overflow-wrap: anywhere; }
    .counts { display: grid; gap: .4rem .9rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 14rem), 1fr)); margin: .5rem 0; padding: 0; list-style: none; }
    .counts li { display: flex; justify-content: space-between; gap: .5rem; border-bottom: 1px solid var(--border); padding: .2rem 0; }
    .counts li.warn strong { color: var(--warn); }
    ul.lines { margin: .3rem 0; padding-left: 1.1rem; }
    ul.lines li { overflow-wrap: anywhere; margin: .1rem 0; }
    .where { color: var(--fg-muted); white-space: nowrap; }
    details { border: 1px solid var(--border); border-radius: 8px; padding: .4rem .7rem; margin: .4rem 0; }
    summary { cursor: pointer; font-weight: 500; }
    code { overflow-wrap: anywhere; }
    td.line { white-space: nowrap; width: 5rem; }
    td.msg { overflow-wrap: anywhere; }
    .table-wrap { position: relative; }
  `];

  static override properties = {
    ...McmScreen.properties,
    status: { state: true }, statusError: { state: true }, sysVersion: { state: true },
    sourceKind: { state: true }, passwordText: { state: true }, aclText: { state: true },
    busy: { state: true }, touched: { state: true },
    outcome: { state: true }, plannedSource: { state: true },
    applied: { state: true }, applyError: { state: true }, expanded: { state: true },
  };
  declare status: ApplyStatus | null;
  declare statusError: string;
  declare sysVersion: string | null;
  declare sourceKind: 'configured' | 'pasted';
  declare passwordText: string;
  declare aclText: string;
  declare busy: '' | 'plan' | 'apply';
  declare touched: boolean;
  /** The last plan (or the refusal of it); cleared when the source changes. */
  declare outcome: ImportOutcome | null;
  declare plannedSource: ImportSource | null;
  /** The last successful apply: what it did and the seq whose apply is followed. */
  declare applied: { plan: ImportPlanView; writeSeq: number | null } | null;
  declare applyError: ImportOutcome | null;
  declare expanded: ReadonlySet<string>;

  constructor() {
    super();
    this.status = null;
    this.statusError = '';
    this.sysVersion = null;
    this.sourceKind = 'configured';
    this.passwordText = '';
    this.aclText = '';
    this.busy = '';
    this.touched = false;
    this.outcome = null;
    this.plannedSource = null;
    this.applied = null;
    this.applyError = null;
    this.expanded = new Set();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.loadStatus();
  }

  private async loadStatus(): Promise<void> {
    // The version: the apply status's (the supervised binary), else the observer's $SYS (GET /status).
    void this.services.api.get<{ broker?: { version?: string | null } }>('/status').then((s) => {
      this.sysVersion = s.broker?.version ?? null;
    }, () => { /* the apply status below says what is wrong */ });
    try {
      const raw = await this.services.api.get<unknown>('/apply-status');
      this.status = parseApplyStatus(raw);
      this.statusError = '';
      // The shell's adoption banner follows the same answer.
      window.dispatchEvent(new CustomEvent('mcm-apply-status', { detail: raw }));
    } catch (err) {
      this.statusError = this.errorText(err);
    }
  }

  private source(): ImportSource {
    return this.sourceKind === 'configured' ? { kind: 'configured' } : { kind: 'pasted', passwordFile: this.passwordText, aclFile: this.aclText };
  }

  /** Any change to the source makes the shown plan stale: apply only ever sends what was planned. */
  private sourceChanged(): void {
    this.outcome = null;
    this.plannedSource = null;
    this.applyError = null;
  }

  private async upload(e: Event, which: 'password' | 'acl'): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    const text = await file.text();
    if (which === 'password') this.passwordText = text;
    else this.aclText = text;
    this.sourceChanged();
  }

  private async plan(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.touched = true;
    const source = this.source();
    if (sourceProblem(source)) return;
    this.busy = 'plan';
    this.applied = null;
    this.applyError = null;
    this.expanded = new Set();
    try {
      this.outcome = await runImport(this.services.api, importRequest('plan', source));
      this.plannedSource = this.outcome.kind === 'ok' ? source : null;
    } catch (err) {
      this.outcome = { kind: 'error', message: this.errorText(err), code: '', status: 0 };
    } finally {
      this.busy = '';
    }
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#plan-h')?.focus();
  }

  private async apply(plan: ImportPlanView): Promise<void> {
    const source = this.plannedSource;
    if (!source) return;
    if (!(await confirmDialog(confirmText(plan)))) return;
    this.busy = 'apply';
    this.applyError = null;
    try {
      const out = await runImport(this.services.api, importRequest('apply', source, plan.seq));
      if (out.kind === 'ok') {
        this.applied = { plan: out.plan, writeSeq: out.writeSeq };
        this.outcome = null;
        this.plannedSource = null;
        // The outcome step says it (one notice per action, issue 16): no toast besides.
        void this.loadStatus();
      } else {
        // Stale or refused: the plan on screen no longer holds.
        this.applyError = out;
        if (out.kind === 'stale' || out.kind === 'invalid') this.outcome = null;
      }
    } catch (err) {
      this.applyError = { kind: 'error', message: this.errorText(err), code: '', status: 0 };
    } finally {
      this.busy = '';
    }
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#result-h')?.focus();
  }

  private toggleGroup(code: string): void {
    const next = new Set(this.expanded);
    if (next.has(code)) next.delete(code);
    else next.add(code);
    this.expanded = next;
  }

  private renderStatus() {
    const st = this.status;
    const foreign = adoptionRequired(st);
    return html`<section class="card" aria-labelledby="st-h">
      <h2 id="st-h">The broker now</h2>
      ${this.statusError ? html`<p class="banner error" role="alert">Cannot read the apply status: ${this.statusError}</p>` : nothing}
      ${st ? html`<dl>
        <dt>Apply state</dt><dd data-testid="import-apply-state"><span class="badge ${st.state === 'applied' ? 'ok' : st.state === 'failed' ? 'error' : 'warn'}">${st.state.replace('_', ' ')}</span></dd>
        <dt>Broker</dt><dd>${st.broker.mode}${st.broker.reload ? `, reload by ${st.broker.reload}` : ''}, ${st.broker.up ? 'up' : 'down'}</dd>
        <dt>Version</dt><dd data-testid="import-broker-version">${versionLabel(st.broker.version ?? this.sysVersion) ?? 'not known yet (MCM reads it from the binary, or from $SYS once its service account can log in)'}</dd>
        ${foreign ? html`<dt>Not MCM's</dt><dd><ul class="lines">${foreign.map((f) => html`<li>${fileLabel(f.file)}: <code>${f.path ?? '—'}</code> <span class="muted small">sha256 ${shortHash(f.sha256)}</span></li>`)}</ul></dd>` : nothing}
      </dl>` : this.statusError ? nothing : html`<p class="muted" role="status">Loading…</p>`}
      ${st && !foreign ? html`<p class="small muted">MCM owns the broker's files. Importing again brings in changes someone made to files MCM does not manage, or a broker's files you paste here.</p>` : nothing}
    </section>`;
  }

  private renderForm() {
    const source = this.source();
    const problem = this.touched ? sourceProblem(source) : null;
    const configured = this.sourceKind === 'configured';
    return html`<section class="card" aria-labelledby="src-h">
      <h2 id="src-h">1. Choose the files</h2>
      <form @submit=${(e: SubmitEvent) => this.plan(e)} novalidate>
        <fieldset>
          <legend>Source</legend>
          <div class="choices">
            <label class="inline"><input type="radio" name="source" value="configured" .checked=${configured}
              @change=${() => { this.sourceKind = 'configured'; this.sourceChanged(); }}>
              <span>The files MCM is configured with <span class="muted small">(the server reads its password_file and acl_file)</span></span></label>
            <label class="inline"><input type="radio" name="source" value="pasted" .checked=${!configured}
              @change=${() => { this.sourceKind = 'pasted'; this.sourceChanged(); }}>
              <span>Paste or upload a password file and an ACL file</span></label>
          </div>
        </fieldset>
        ${configured ? nothing : html`<div class="files">
          <div class="stack">
            <label for="pw-text">Password file <span class="muted small">(mosquitto_passwd format: <code>user:$7$…</code>)</span></label>
            <textarea id="pw-text" spellcheck="false" autocomplete="off" aria-invalid=${problem ? 'true' : 'false'} aria-describedby="src-problem"
              .value=${this.passwordText} @input=${(e: InputEvent) => { this.passwordText = (e.target as HTMLTextAreaElement).value; this.sourceChanged(); }}></textarea>
            <label class="upload">Upload a password file <input type="file" @change=${(e: Event) => this.upload(e, 'password')}></label>
          </div>
          <div class="stack">
            <label for="acl-text">ACL file <span class="muted small">(<code>user</code>, <code>topic</code>, <code>pattern</code> lines)</span></label>
            <textarea id="acl-text" spellcheck="false" autocomplete="off" aria-invalid=${problem ? 'true' : 'false'} aria-describedby="src-problem"
              .value=${this.aclText} @input=${(e: InputEvent) => { this.aclText = (e.target as HTMLTextAreaElement).value; this.sourceChanged(); }}></textarea>
            <label class="upload">Upload an ACL file <input type="file" @change=${(e: Event) => this.upload(e, 'acl')}></label>
          </div>
        </div>
        <p class="small muted">A file left empty is not imported. Texts stay in this page until you apply: nothing is stored by planning.</p>`}
        <p id="src-problem" class="error small" role=${problem ? 'alert' : nothing}>${problem ?? ''}</p>
        <div class="actions">
          <button type="submit" class="primary" ?disabled=${this.busy !== ''}>${this.busy === 'plan' ? 'Planning…' : 'Plan the import'}</button>
        </div>
        <p class="small muted">Planning changes nothing: it shows what applying would do.</p>
      </form>
    </section>`;
  }

  private renderProblems(out: Extract<ImportOutcome, { kind: 'invalid' }>, heading: string) {
    const n = out.problems.length;
    return html`<div class="banner error" role="alert" data-testid="import-invalid">
        <strong>${heading}</strong> ${n === 0 ? out.message : `${n.toLocaleString('en-US')} line${n === 1 ? '' : 's'} cannot be imported.`}
        Nothing was changed: fix ${n === 1 ? 'this line' : 'these lines'} and plan again.
        ${n >= 1000 ? html`<span class="small">(The server lists the first ${n.toLocaleString('en-US')}: ${out.message})</span>` : nothing}
      </div>
      <div class="table-wrap"><table data-testid="import-problems">
        <caption class="sr-only">Lines the import refused</caption>
        <thead><tr><th scope="col">File</th><th scope="col">Line</th><th scope="col">Problem</th></tr></thead>
        <tbody>${out.problems.map((p) => html`<tr><td>${fileLabel(p.file)}</td><td class="line">${p.line > 0 ? p.line : '—'}</td><td class="msg">${p.message}</td></tr>`)}</tbody>
      </table></div>`;
  }

  private renderWarnings(plan: ImportPlanView) {
    const groups = groupWarnings(plan.warnings);
    if (groups.length === 0) return html`<p class="muted small" data-testid="import-warnings">No warnings.</p>`;
    return html`<div data-testid="import-warnings">${groups.map((g) => {
      const all = this.expanded.has(g.code);
      const shown = all ? g.items : g.items.slice(0, GROUP_PREVIEW);
      return html`<details open>
        <summary><code>${g.code}</code> — ${g.count} warning${g.count === 1 ? '' : 's'}</summary>
        <ul class="lines">${shown.map((w) => html`<li><span class="where">${where(w)}:</span> ${w.message}</li>`)}</ul>
        ${g.count > GROUP_PREVIEW ? html`<button type="button" class="link" @click=${() => this.toggleGroup(g.code)}>${all ? `Show the first ${GROUP_PREVIEW} only` : `Show all ${g.count}`}</button>` : nothing}
      </details>`;
    })}</div>`;
  }

  private renderPlan(plan: ImportPlanView) {
    const would = applyWouldDo(plan);
    const note = differencesNote(plan);
    return html`
      ${would === 'nothing'
        ? html`<p class="banner ok" role="status" data-testid="import-nothing">Nothing to import: MCM already matches these files and owns them.</p>`
        : would === 'adopt-only'
          ? html`<p class="banner ok" role="status">MCM already matches these files: applying only records that MCM may now replace them.</p>`
          : nothing}
      <dl>
        <dt>Planned at</dt><dd>change #${plan.seq}</dd>
        <dt>Judged for</dt><dd>${versionLabel(plan.broker_version) ?? 'an unknown broker version: the warnings cover both 2.0 and 2.1'}</dd>
        ${plan.adopt.length > 0 ? html`<dt>Files to adopt</dt><dd><ul class="lines">${plan.adopt.map((a) => html`<li>${fileLabel(a.file)}${a.path ? html`: <code>${a.path}</code>` : ' (pasted)'} <span class="muted small">sha256 ${shortHash(a.sha256)}</span></li>`)}</ul></dd>` : nothing}
      </dl>
      <h3>Summary</h3>
      <ul class="counts" data-testid="import-summary">
        ${summaryRows(plan.summary).map((r) => html`<li class=${r.tone} data-key=${r.key}><span>${r.label}</span><strong>${r.value}</strong></li>`)}
      </ul>
      <h3>Differences <span class="muted small">(${plan.differences_total})</span></h3>
      ${plan.differences.length === 0 ? html`<p class="muted small">None.</p>` : html`
        ${note ? html`<p class="small muted">${note}</p>` : nothing}
        <ul class="lines mono small" data-testid="import-differences">${plan.differences.map((d) => html`<li><span class="where">${where(d)}:</span> ${d.text}</li>`)}</ul>`}
      <h3>Warnings <span class="muted small">(${plan.warnings.length})</span></h3>
      ${this.renderWarnings(plan)}
      ${would === 'nothing' ? nothing : html`<div class="actions">
        <button type="button" class="primary" ?disabled=${this.busy !== ''} @click=${() => this.apply(plan)}>${this.busy === 'apply' ? 'Applying…' : 'Apply the import…'}</button>
      </div>
      <p class="small muted">You confirm before anything changes. The import is applied as one batch, recorded in the audit log as an import by you.</p>`}`;
  }

  private renderResult() {
    const out = this.outcome;
    if (!out) return nothing;
    return html`<section class="card" aria-labelledby="plan-h" data-testid="import-plan">
      <h2 id="plan-h" tabindex="-1">2. The plan</h2>
      ${out.kind === 'ok' ? this.renderPlan(out.plan)
        : out.kind === 'invalid' ? this.renderProblems(out, 'The files were refused.')
          : out.kind === 'stale' ? html`<p class="banner warn" role="alert">${out.message}</p>`
            : html`<p class="banner error" role="alert">${out.message}${out.code && !out.code.startsWith('HTTP_') ? ` (${out.code})` : ''}</p>`}
    </section>`;
  }

  private renderApplied() {
    const err = this.applyError;
    const done = this.applied;
    if (!err && !done) return nothing;
    return html`<section class="card" aria-labelledby="result-h" data-testid="import-result">
      <h2 id="result-h" tabindex="-1">3. Outcome</h2>
      ${err ? (err.kind === 'invalid' ? this.renderProblems(err, 'The files changed since the plan and were refused.')
        : err.kind === 'stale' ? html`<p class="banner warn" role="alert" data-testid="import-stale">The configuration changed since this plan (${err.message}). Nothing was applied: plan again.</p>`
          : err.kind === 'error' ? html`<p class="banner error" role="alert">The import was not applied: ${err.message}</p>` : nothing) : nothing}
      ${done ? html`<p class="banner ok" role="status" data-testid="import-applied">Imported: ${done.plan.events_count ?? 0} change${done.plan.events_count === 1 ? '' : 's'} recorded
          (${done.plan.summary.users_created} users created, ${done.plan.summary.rules_added} rules added).
          ${done.plan.adopt.length > 0 ? 'MCM now owns the adopted files; the originals are kept as .pre-mcm copies when MCM first replaces them.' : ''}</p>
        ${done.writeSeq !== null ? html`<access-apply-status .services=${this.services} .seq=${done.writeSeq} what="Import"></access-apply-status>` : nothing}
        <div class="actions"><button type="button" @click=${() => { void this.loadStatus(); }}>Refresh the broker status</button></div>` : nothing}
    </section>`;
  }

  override render() {
    const why = this.services.whyNot('admin');
    return html`
      <h1>Import broker files</h1>
      <p class="muted">Adopt an existing Mosquitto: bring its password file and ACL file into MCM without losing a user.
        Password hashes are kept byte for byte, so every device keeps its password. The same import runs from the command line as <code>mcm import</code>.</p>
      ${why ? html`<p class="banner warn">Importing ${why}.</p>` : html`
        ${this.renderStatus()}
        ${this.renderForm()}
        ${this.renderResult()}
        ${this.renderApplied()}`}
    `;
  }
}
customElements.define('mcm-import', McmImport);
