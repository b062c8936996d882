/**
 * The Broker screen's bridges: addresses, remote user, the password (write-only: "stored", "new"
 * or "removed", never its value), topic lines and TLS, each marked against what the broker has
 * and with the last preview's problems; an add/edit form with a topic line editor. Edits go to
 * the draft: `bridge-saved` {bridge, replacing} and `bridge-removed` {name}.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import { bridgeForm, bridgeFromForm, emptyTopicRow, topicText, type BridgeForm, type Problems, type TopicRow } from '../data/broker-forms.ts';
import { passwordState, removedNames, rowProblems, rowState, type BridgeDraft, type CertificateView, type FieldProblem } from '../data/broker-model.ts';
import { certificateChoices } from '../data/certificate-model.ts';
import { shared } from '../styles/theme.ts';
import { brokerStyles } from './broker-styles.ts';

let instances = 0;

const PASSWORD_BADGE: Record<ReturnType<typeof passwordState>, { tone: string; text: string }> = {
  stored: { tone: 'ok', text: 'stored' },
  new: { tone: 'new', text: 'new (in the draft)' },
  removed: { tone: 'changed', text: 'removed (in the draft)' },
  none: { tone: '', text: 'none' },
};

export class BrokerBridges extends LitElement {
  static override styles = [shared, brokerStyles];
  static override properties = {
    bridges: { attribute: false }, base: { attribute: false }, certificates: { attribute: false }, problems: { attribute: false },
    editable: { type: Boolean }, form: { state: true }, editing: { state: true }, formProblems: { state: true },
  };
  declare bridges: BridgeDraft[];
  declare base: BridgeDraft[];
  declare certificates: CertificateView[];
  declare problems: FieldProblem[];
  declare editable: boolean;
  declare form: BridgeForm | null;
  declare editing: string | null;
  declare formProblems: Problems;
  private readonly uid = `bb${++instances}`;

  constructor() {
    super();
    this.bridges = [];
    this.base = [];
    this.certificates = [];
    this.problems = [];
    this.editable = false;
    this.form = null;
    this.editing = null;
    this.formProblems = {};
  }

  private emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  private open(b: BridgeDraft | null): void {
    this.form = bridgeForm(b ?? undefined);
    this.editing = b?.name ?? null;
    this.formProblems = {};
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#${this.uid}-name`)?.focus());
  }

  private set(patch: Partial<BridgeForm>): void {
    if (this.form) this.form = { ...this.form, ...patch };
  }

  private setTopic(i: number, patch: Partial<TopicRow>): void {
    if (this.form) this.set({ topics: this.form.topics.map((t, j) => (j === i ? { ...t, ...patch } : t)) });
  }

  private save(e: SubmitEvent): void {
    e.preventDefault();
    if (!this.form) return;
    const { bridge, problems } = bridgeFromForm(this.form);
    this.formProblems = problems;
    if (!bridge) return;
    this.emit('bridge-saved', { bridge, replacing: this.editing });
    this.form = null;
    this.editing = null;
  }

  private problem(field: string): string | null {
    const local = this.formProblems[field];
    if (local) return local;
    const at = this.editing === null ? -1 : this.bridges.findIndex((b) => b.name === this.editing);
    if (at < 0) return null;
    const row = rowProblems(this.problems, `bridges[${at}]`);
    // Server fields by index (addresses[0].host, topics[1].pattern) show under the list they belong to.
    return row[field] ?? Object.entries(row).find(([k]) => k.startsWith(`${field}[`) || k.startsWith(`${field}.`))?.[1] ?? null;
  }

  private field(label: string, field: string, input: (id: string, invalid: boolean) => unknown, hint?: string) {
    const id = `${this.uid}-${field.replace('.', '-')}`;
    const p = this.problem(field);
    return html`<div class="field"><label for=${id}>${label}</label>${input(id, p !== null)}
      ${hint ? html`<span class="hint" id="${id}-hint">${hint}</span>` : nothing}
      ${p ? html`<span class="field-problem" id="${id}-problem">${p}</span>` : nothing}</div>`;
  }

  private text(field: 'name' | 'remoteUsername' | 'remoteClientId' | 'keepalive', placeholder = '') {
    const f = this.form;
    return (id: string, invalid: boolean) => html`<input id=${id} .value=${f?.[field] ?? ''} autocomplete="off" spellcheck="false" placeholder=${placeholder}
      aria-invalid=${invalid ? 'true' : 'false'} aria-describedby="${id}-hint ${id}-problem" @input=${(e: Event) => this.set({ [field]: (e.target as HTMLInputElement).value })}>`;
  }

  private renderTopics(f: BridgeForm) {
    const p = this.problem('topics');
    return html`<fieldset>
      <legend>Topic lines</legend>
      <ol class="lines">${f.topics.map((t, i) => html`<li aria-label="Topic line ${i + 1}">
        <div class="field"><label for="${this.uid}-tp${i}">Pattern ${i + 1}</label><input id="${this.uid}-tp${i}" .value=${t.pattern} placeholder="plant/#" spellcheck="false" @input=${(e: Event) => this.setTopic(i, { pattern: (e.target as HTMLInputElement).value })}></div>
        <div class="field"><label for="${this.uid}-td${i}">Direction ${i + 1}</label><select id="${this.uid}-td${i}" @change=${(e: Event) => this.setTopic(i, { direction: (e.target as HTMLSelectElement).value as TopicRow['direction'] })}>
          ${(['out', 'in', 'both'] as const).map((d) => html`<option value=${d} ?selected=${t.direction === d}>${d === 'out' ? 'out (local → remote)' : d === 'in' ? 'in (remote → local)' : 'both'}</option>`)}</select></div>
        <div class="field"><label for="${this.uid}-tq${i}">QoS ${i + 1}</label><select id="${this.uid}-tq${i}" @change=${(e: Event) => this.setTopic(i, { qos: (e.target as HTMLSelectElement).value as TopicRow['qos'] })}>
          ${(['0', '1', '2'] as const).map((q) => html`<option value=${q} ?selected=${t.qos === q}>${q}</option>`)}</select></div>
        <div class="field"><label for="${this.uid}-tl${i}">Local prefix ${i + 1}</label><input id="${this.uid}-tl${i}" .value=${t.localPrefix} spellcheck="false" @input=${(e: Event) => this.setTopic(i, { localPrefix: (e.target as HTMLInputElement).value })}></div>
        <div class="field"><label for="${this.uid}-tr${i}">Remote prefix ${i + 1}</label><input id="${this.uid}-tr${i}" .value=${t.remotePrefix} spellcheck="false" @input=${(e: Event) => this.setTopic(i, { remotePrefix: (e.target as HTMLInputElement).value })}></div>
        <div class="field"><button type="button" aria-label="Remove topic line ${i + 1}" @click=${() => this.set({ topics: f.topics.filter((_, j) => j !== i) })}>Remove</button></div>
      </li>`)}</ol>
      ${p ? html`<p class="field-problem" role="alert">${p}</p>` : nothing}
      <button type="button" class="link" @click=${() => this.set({ topics: [...f.topics, emptyTopicRow()] })}>+ Add a topic line</button>
    </fieldset>`;
  }

  private renderForm(f: BridgeForm) {
    const { withKey } = certificateChoices(this.certificates);
    const all = this.certificates.map((c) => c.name);
    return html`<form class="editor" @submit=${(e: SubmitEvent) => this.save(e)} aria-labelledby="${this.uid}-fh" novalidate>
      <h3 id="${this.uid}-fh">${this.editing === null ? 'Add a bridge' : `Edit bridge ${this.editing}`}</h3>
      <div class="form-grid">
        ${this.field('Connection name', 'name', this.text('name', 'e.g. cloud'))}
        ${this.field('Remote addresses', 'addresses', (id, invalid) => html`<textarea id=${id} rows="2" spellcheck="false" placeholder="mqtt.example.com:8883" aria-invalid=${invalid ? 'true' : 'false'}
          aria-describedby="${id}-hint ${id}-problem" .value=${f.addresses} @input=${(e: Event) => this.set({ addresses: (e.target as HTMLTextAreaElement).value })}></textarea>`, 'host:port, one per line, tried in order')}
        ${this.field('Remote username', 'remoteUsername', this.text('remoteUsername'))}
        ${this.field('Remote password', 'remotePassword', (id) => html`<input id=${id} type="password" autocomplete="new-password" .value=${f.password}
          placeholder=${f.hasRemotePassword ? 'stored — leave empty to keep it' : 'none'} aria-describedby="${id}-hint ${id}-problem" ?disabled=${f.removePassword}
          @input=${(e: Event) => this.set({ password: (e.target as HTMLInputElement).value })}>`,
          f.hasRemotePassword ? 'A password is stored; it is never shown. Type a new one to replace it.' : 'Write-only: stored in MCM\'s secrets, shown as ******** in mosquitto.conf.')}
        ${this.field('Remote client id', 'remoteClientId', this.text('remoteClientId', 'default: the connection name'))}
        ${this.field('Keepalive (s)', 'keepalive', this.text('keepalive'))}
        ${f.hasRemotePassword ? html`<label class="inline wide"><input type="checkbox" .checked=${f.removePassword} @change=${(e: Event) => this.set({ removePassword: (e.target as HTMLInputElement).checked, password: '' })}> Remove the stored password</label>` : nothing}
        <label class="inline wide"><input type="checkbox" .checked=${f.cleansession} @change=${(e: Event) => this.set({ cleansession: (e.target as HTMLInputElement).checked })}> Clean session (the remote forgets subscriptions on disconnect)</label>
      </div>
      <fieldset>
        <legend><label class="inline"><input type="checkbox" .checked=${f.tls} @change=${(e: Event) => this.set({ tls: (e.target as HTMLInputElement).checked })}> TLS to the remote broker</label></legend>
        ${f.tls ? html`<div class="form-grid">
          ${this.field('CA of the remote', 'tls.ca', (id, invalid) => html`<select id=${id} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby="${id}-problem" @change=${(e: Event) => this.set({ tlsCa: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${f.tlsCa === ''}>choose…</option>${all.map((n) => html`<option value=${n} ?selected=${n === f.tlsCa}>${n}</option>`)}</select>`)}
          ${this.field('Client certificate', 'tls.certificate', (id) => html`<select id=${id} @change=${(e: Event) => this.set({ tlsCertificate: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${f.tlsCertificate === ''}>none</option>${withKey.map((n) => html`<option value=${n} ?selected=${n === f.tlsCertificate}>${n}</option>`)}</select>`)}
          ${this.field('TLS version', 'tls.version', (id) => html`<select id=${id} @change=${(e: Event) => this.set({ tlsVersion: (e.target as HTMLSelectElement).value as BridgeForm['tlsVersion'] })}>
            <option value="" ?selected=${f.tlsVersion === ''}>broker default</option><option value="tlsv1.2" ?selected=${f.tlsVersion === 'tlsv1.2'}>TLS 1.2</option><option value="tlsv1.3" ?selected=${f.tlsVersion === 'tlsv1.3'}>TLS 1.3</option></select>`)}
        </div>` : nothing}
      </fieldset>
      ${this.renderTopics(f)}
      <div class="actions">
        <button type="submit" class="primary">${this.editing === null ? 'Add to the draft' : 'Update the draft'}</button>
        <button type="button" @click=${() => { this.form = null; this.editing = null; }}>Cancel</button>
      </div>
    </form>`;
  }

  private renderRow(b: BridgeDraft, i: number) {
    const state = rowState(b, this.base);
    const pw = PASSWORD_BADGE[passwordState(b)];
    const rowP = Object.entries(rowProblems(this.problems, `bridges[${i}]`));
    return html`<tr data-bridge=${b.name}>
        <td data-label="Name"><strong>${b.name}</strong> ${state ? html`<span class="badge ${state}">${state}</span>` : nothing}</td>
        <td data-label="Addresses" class="mono small">${b.addresses.map((a) => html`<div>${a.host}:${a.port}</div>`)}</td>
        <td data-label="Remote user">${b.remoteUsername ?? html`<span class="muted">none</span>`}</td>
        <td data-label="Password"><span class="badge ${pw.tone}">${pw.text}</span></td>
        <td data-label="Topics" class="mono small">${b.topics.map((t) => html`<div>${topicText(t)}</div>`)}</td>
        <td data-label="TLS" class="small">${b.tls ? `CA ${b.tls.ca}${b.tls.certificate ? `, client ${b.tls.certificate}` : ''}` : 'none'}</td>
        ${this.editable ? html`<td data-label=""><div class="actions">
          <button type="button" aria-label="Edit bridge ${b.name}" @click=${() => this.open(b)}>Edit</button>
          <button type="button" class="danger" aria-label="Remove bridge ${b.name}" @click=${() => this.emit('bridge-removed', { name: b.name })}>Remove</button>
        </div></td>` : nothing}
      </tr>
      ${rowP.length > 0 ? html`<tr class="row-problem"><td colspan="7" data-label="">${rowP.map(([, m]) => html`<p class="field-problem" role="alert">${m}</p>`)}</td></tr>` : nothing}`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    const removed = removedNames(this.bridges, this.base);
    const cols = this.editable ? 7 : 6;
    return html`
      ${this.bridges.length === 0 && removed.length === 0 ? html`<p class="muted small">No bridges: this broker does not connect to another one.</p>` : html`
      <div class="table-wrap"><table class="stacking" data-testid="broker-bridges">
        <caption class="sr-only">Bridges</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Addresses</th><th scope="col">Remote user</th><th scope="col">Password</th><th scope="col">Topics</th><th scope="col">TLS</th>${this.editable ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : nothing}</tr></thead>
        <tbody>
          ${this.bridges.map((b, i) => this.renderRow(b, i))}
          ${removed.map((n) => html`<tr><td data-label="Name"><s>${n}</s> <span class="badge changed">removed</span></td><td colspan=${cols - 1} data-label="" class="muted small">removed in the draft</td></tr>`)}
        </tbody>
      </table></div>`}
      ${this.editable ? (this.form ? this.renderForm(this.form) : html`<div class="actions"><button type="button" @click=${() => this.open(null)}>Add a bridge</button></div>`) : nothing}`;
  }
}
customElements.define('broker-bridges', BrokerBridges);
