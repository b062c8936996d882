/**
 * The Broker screen's listeners: MCM's own (reserved ports, read-only), then the draft's, each
 * marked new or changed against what the broker has, with the problems the last preview found
 * on its row; an add/edit form (name, port, protocol, bind, max connections, TLS with the stored
 * certificates). Edits go to the draft only: `listener-saved` {listener, replacing} and
 * `listener-removed` {name}; the screen previews and applies.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import { bindText, listenerForm, listenerFromForm, tlsText, type ListenerForm, type Problems } from '../data/broker-forms.ts';
import { removedNames, rowProblems, rowState, type CertificateView, type FieldProblem, type Listener, type ReservedListener } from '../data/broker-model.ts';
import { certificateChoices } from '../data/certificate-model.ts';
import { shared } from '../styles/theme.ts';
import { brokerStyles } from './broker-styles.ts';

let instances = 0;

export class BrokerListeners extends LitElement {
  static override styles = [shared, brokerStyles];
  static override properties = {
    listeners: { attribute: false }, base: { attribute: false }, reserved: { attribute: false }, certificates: { attribute: false },
    problems: { attribute: false }, editable: { type: Boolean },
    form: { state: true }, editing: { state: true }, formProblems: { state: true },
  };
  declare listeners: Listener[];
  declare base: Listener[];
  declare reserved: ReservedListener[];
  declare certificates: CertificateView[];
  declare problems: FieldProblem[];
  declare editable: boolean;
  declare form: ListenerForm | null;
  /** The name of the listener being edited; null while adding one. */
  declare editing: string | null;
  declare formProblems: Problems;
  private readonly uid = `bl${++instances}`;

  constructor() {
    super();
    this.listeners = [];
    this.base = [];
    this.reserved = [];
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

  private open(l: Listener | null): void {
    this.form = listenerForm(l ?? undefined);
    this.editing = l?.name ?? null;
    this.formProblems = {};
    void this.updateComplete.then(() => this.renderRoot.querySelector<HTMLInputElement>(`#${this.uid}-name`)?.focus());
  }

  private set(patch: Partial<ListenerForm>): void {
    if (this.form) this.form = { ...this.form, ...patch };
  }

  private save(e: SubmitEvent): void {
    e.preventDefault();
    if (!this.form) return;
    const reserved = this.reserved.map((r) => r.port);
    const { listener, problems } = listenerFromForm(this.form, reserved);
    this.formProblems = problems;
    if (!listener) return;
    this.emit('listener-saved', { listener, replacing: this.editing });
    this.form = null;
    this.editing = null;
  }

  /** The form's problem for `field`: its own check first, then the last preview's for this row. */
  private problem(field: string): string | null {
    const local = this.formProblems[field];
    if (local) return local;
    const at = this.editing === null ? -1 : this.listeners.findIndex((l) => l.name === this.editing);
    return at < 0 ? null : rowProblems(this.problems, `listeners[${at}]`)[field] ?? null;
  }

  private field(label: string, field: string, input: (id: string, invalid: boolean) => unknown, hint?: string) {
    const id = `${this.uid}-${field.replace('.', '-')}`;
    const p = this.problem(field);
    return html`<div class="field"><label for=${id}>${label}</label>${input(id, p !== null)}
      ${hint ? html`<span class="hint" id="${id}-hint">${hint}</span>` : nothing}
      ${p ? html`<span class="field-problem" id="${id}-problem">${p}</span>` : nothing}</div>`;
  }

  private renderForm(f: ListenerForm) {
    const { withKey, cas } = certificateChoices(this.certificates);
    const ws = f.protocol === 'websockets';
    const text = (field: keyof ListenerForm, extra: { placeholder?: string; inputmode?: string; disabled?: boolean } = {}) => (id: string, invalid: boolean) => html`<input id=${id}
      .value=${String(f[field])} autocomplete="off" spellcheck="false" placeholder=${extra.placeholder ?? ''} inputmode=${extra.inputmode ?? 'text'}
      ?disabled=${extra.disabled === true} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby="${id}-hint ${id}-problem"
      @input=${(e: Event) => this.set({ [field]: (e.target as HTMLInputElement).value })}>`;
    return html`<form class="editor" @submit=${(e: SubmitEvent) => this.save(e)} aria-labelledby="${this.uid}-fh" novalidate>
      <h3 id="${this.uid}-fh">${this.editing === null ? 'Add a listener' : `Edit listener ${this.editing}`}</h3>
      <div class="form-grid">
        ${this.field('Name', 'name', text('name', { placeholder: 'e.g. tls, browsers' }), 'a-z, 0-9 and -')}
        ${this.field('Port', 'port', text('port', { placeholder: 'e.g. 8883', inputmode: 'numeric' }))}
        ${this.field('Protocol', 'protocol', (id) => html`<select id=${id} .value=${f.protocol} @change=${(e: Event) => this.set({ protocol: (e.target as HTMLSelectElement).value as ListenerForm['protocol'] })}>
          <option value="mqtt" ?selected=${!ws}>mqtt</option><option value="websockets" ?selected=${ws}>websockets</option></select>`)}
        ${this.field('IP address', 'address', text('address', { placeholder: ws ? 'not for websockets' : 'e.g. 127.0.0.1 (empty: all)', disabled: ws }),
          ws ? 'Mosquitto ignores an IP address on a websockets listener: bind an interface' : undefined)}
        ${this.field('Interface', 'bindInterface', text('bindInterface', { placeholder: 'e.g. lo, eth0' }))}
        ${this.field('Max connections', 'maxConnections', text('maxConnections', { placeholder: 'unlimited', inputmode: 'numeric' }))}
      </div>
      <fieldset>
        <legend><label class="inline"><input type="checkbox" .checked=${f.tls} @change=${(e: Event) => this.set({ tls: (e.target as HTMLInputElement).checked })}> TLS</label></legend>
        ${f.tls ? html`<div class="form-grid">
          ${this.field('Certificate', 'tls.certificate', (id, invalid) => html`<select id=${id} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby="${id}-hint ${id}-problem" @change=${(e: Event) => this.set({ certificate: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${f.certificate === ''}>choose…</option>
            ${withKey.map((n) => html`<option value=${n} ?selected=${n === f.certificate}>${n}</option>`)}</select>`,
            withKey.length === 0 ? 'no stored certificate has a private key: upload one below' : undefined)}
          ${this.field('Client CA', 'tls.ca', (id, invalid) => html`<select id=${id} aria-invalid=${invalid ? 'true' : 'false'} aria-describedby="${id}-problem" @change=${(e: Event) => this.set({ ca: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${f.ca === ''}>none</option>
            ${cas.map((n) => html`<option value=${n} ?selected=${n === f.ca}>${n}</option>`)}</select>`)}
          ${this.field('Lowest TLS version', 'tls.minVersion', (id) => html`<select id=${id} @change=${(e: Event) => this.set({ minVersion: (e.target as HTMLSelectElement).value as ListenerForm['minVersion'] })}>
            <option value="tlsv1.2" ?selected=${f.minVersion === 'tlsv1.2'}>TLS 1.2</option><option value="tlsv1.3" ?selected=${f.minVersion === 'tlsv1.3'}>TLS 1.3</option></select>`)}
          <div class="stack wide">
            <label class="inline"><input type="checkbox" .checked=${f.requireCertificate} @change=${(e: Event) => this.set({ requireCertificate: (e.target as HTMLInputElement).checked })}> Clients must present a certificate (mTLS)</label>
            <label class="inline"><input type="checkbox" .checked=${f.useIdentityAsUsername} ?disabled=${!f.requireCertificate} @change=${(e: Event) => this.set({ useIdentityAsUsername: (e.target as HTMLInputElement).checked })}> The certificate's CN is the MQTT username</label>
          </div>
        </div>` : html`<p class="hint">Plain TCP. Turn TLS on to encrypt with a stored certificate.</p>`}
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary">${this.editing === null ? 'Add to the draft' : 'Update the draft'}</button>
        <button type="button" @click=${() => { this.form = null; this.editing = null; }}>Cancel</button>
      </div>
    </form>`;
  }

  private renderRow(l: Listener, i: number) {
    const state = rowState(l, this.base);
    const rowP = Object.entries(rowProblems(this.problems, `listeners[${i}]`));
    return html`<tr data-listener=${l.name}>
        <td data-label="Name"><strong>${l.name}</strong> ${state ? html`<span class="badge ${state}">${state}</span>` : nothing}</td>
        <td data-label="Port" class="num">${l.port}</td>
        <td data-label="Protocol">${l.protocol}</td>
        <td data-label="Bind">${bindText(l)}</td>
        <td data-label="TLS">${tlsText(l)}</td>
        <td data-label="Max connections" class="num">${l.maxConnections ?? 'unlimited'}</td>
        ${this.editable ? html`<td data-label=""><div class="actions">
          <button type="button" aria-label="Edit listener ${l.name}" @click=${() => this.open(l)}>Edit</button>
          <button type="button" class="danger" aria-label="Remove listener ${l.name}" @click=${() => this.emit('listener-removed', { name: l.name })}>Remove</button>
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
    const removed = removedNames(this.listeners, this.base);
    const cols = this.editable ? 7 : 6;
    return html`
      <div class="table-wrap"><table class="stacking" data-testid="broker-listeners">
        <caption class="sr-only">Listeners</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Port</th><th scope="col">Protocol</th><th scope="col">Bind</th><th scope="col">TLS</th><th scope="col">Max connections</th>${this.editable ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : nothing}</tr></thead>
        <tbody>
          ${this.reserved.map((r) => html`<tr class="reserved" data-reserved=${r.port}>
            <td data-label="Name">MCM <span class="badge">read-only</span></td>
            <td data-label="Port" class="num">${r.port}</td>
            <td data-label="Protocol">${r.protocol ?? '—'}</td>
            <td data-label="Bind">${r.bind ?? '—'}</td>
            <td data-label="TLS">—</td>
            <td data-label="Max connections">—</td>
            ${this.editable ? html`<td data-label="" class="small">set in MCM's configuration</td>` : nothing}
          </tr>`)}
          ${this.listeners.map((l, i) => this.renderRow(l, i))}
          ${removed.map((n) => html`<tr><td data-label="Name"><s>${n}</s> <span class="badge changed">removed</span></td><td colspan=${cols - 1} data-label="" class="muted small">removed in the draft</td></tr>`)}
        </tbody>
      </table></div>
      ${this.listeners.length === 0 && removed.length === 0 ? html`<p class="muted small">No listeners of your own yet: clients reach the broker through MCM's listener only.</p>` : nothing}
      ${this.editable ? (this.form ? this.renderForm(this.form) : html`<div class="actions"><button type="button" @click=${() => this.open(null)}>Add a listener</button></div>`) : nothing}`;
  }
}
customElements.define('broker-listeners', BrokerListeners);
