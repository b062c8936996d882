/**
 * The Broker screen's certificates: name, subject and issuer, expiry (a warning at 30 days or
 * less, an error once expired), what it holds (CA, private key) and what uses it; admins upload
 * (PEM pasted or read from a file: certificate, optional key, optional CA it must chain to) and
 * remove unused ones. Certificates are not part of the draft: each upload or removal is its own
 * change, then `certificates-changed` asks the screen to read them again.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import type { Services } from '../app/services.ts';
import type { CertificateView } from '../data/broker-model.ts';
import {
  certificateBody, certificateChoices, certificateKind, emptyCertificateForm, expiryText, expiryTone, removeCertificate, uploadCertificate,
  type CertificateForm,
} from '../data/certificate-model.ts';
import { formatTime } from '../data/format.ts';
import { shared } from '../styles/theme.ts';
import { confirmDialog } from './mcm-confirm.ts';
import { brokerStyles } from './broker-styles.ts';

let instances = 0;

export class BrokerCertificates extends LitElement {
  static override styles = [shared, brokerStyles];
  static override properties = {
    services: { attribute: false }, certificates: { attribute: false }, truncated: { type: Boolean },
    form: { state: true }, problems: { state: true }, busy: { state: true }, message: { state: true },
  };
  declare services: Services;
  declare certificates: CertificateView[];
  declare truncated: boolean;
  declare form: CertificateForm | null;
  declare problems: Record<string, string>;
  declare busy: boolean;
  declare message: { kind: 'ok' | 'error'; text: string } | null;
  private readonly uid = `bc${++instances}`;

  constructor() {
    super();
    this.certificates = [];
    this.truncated = false;
    this.form = null;
    this.problems = {};
    this.busy = false;
    this.message = null;
  }

  private changed(): void {
    this.dispatchEvent(new CustomEvent('certificates-changed', { bubbles: true, composed: true }));
  }

  private set(patch: Partial<CertificateForm>): void {
    if (this.form) this.form = { ...this.form, ...patch };
  }

  private async readFile(e: Event, field: 'cert' | 'key'): Promise<void> {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) this.set({ [field]: await file.text() });
  }

  private async upload(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (!this.form) return;
    const { body, problems } = certificateBody(this.form);
    this.problems = problems;
    if (!body) return;
    this.busy = true;
    this.message = null;
    try {
      const out = await uploadCertificate(this.services.api, body);
      if (out.kind === 'ok') {
        const notes = out.value.notes.length > 0 ? ` ${out.value.notes.join(' ')}` : '';
        this.message = { kind: 'ok', text: `Certificate ${out.value.name} stored (${expiryText(out.value)}).${notes}` };
        this.form = null;
        this.changed();
      } else if (out.kind === 'invalid') {
        this.problems = Object.fromEntries(out.problems.map((p) => [p.field || 'cert', p.message]));
        this.message = { kind: 'error', text: out.message };
      } else {
        this.message = { kind: 'error', text: `${out.message}${out.code.startsWith('HTTP_') ? '' : ` (${out.code})`}` };
      }
    } finally {
      this.busy = false;
    }
  }

  private async removeOne(c: CertificateView): Promise<void> {
    const ok = await confirmDialog({ title: `Remove certificate ${c.name}?`, message: 'Its PEM and private key are deleted from MCM. Nothing uses it now.', confirm: 'Remove certificate' });
    if (!ok) return;
    this.busy = true;
    try {
      const out = await removeCertificate(this.services.api, c.name);
      this.message = out.kind === 'ok' ? { kind: 'ok', text: `Certificate ${c.name} removed.` } : { kind: 'error', text: out.message };
      if (out.kind === 'ok') this.changed();
    } finally {
      this.busy = false;
    }
  }

  private pem(label: string, field: 'cert' | 'key', hint: string) {
    const id = `${this.uid}-${field}`;
    const p = this.problems[field];
    return html`<div class="field wide">
      <label for=${id}>${label}</label>
      <textarea id=${id} rows="5" spellcheck="false" autocomplete="off" aria-invalid=${p ? 'true' : 'false'} aria-describedby="${id}-hint ${id}-problem"
        placeholder=${field === 'cert' ? '-----BEGIN CERTIFICATE-----' : '-----BEGIN PRIVATE KEY-----'} .value=${this.form?.[field] ?? ''}
        @input=${(e: Event) => this.set({ [field]: (e.target as HTMLTextAreaElement).value })}></textarea>
      <span class="hint" id="${id}-hint">${hint}</span>
      <label class="inline hint">Or read a file <input type="file" accept=".pem,.crt,.cer,.key,text/plain" @change=${(e: Event) => this.readFile(e, field)}></label>
      ${p ? html`<span class="field-problem" id="${id}-problem">${p}</span>` : nothing}
    </div>`;
  }

  private renderForm(f: CertificateForm) {
    const { cas } = certificateChoices(this.certificates);
    const nameP = this.problems['name'];
    const caP = this.problems['ca'];
    return html`<form class="editor" @submit=${(e: SubmitEvent) => this.upload(e)} aria-labelledby="${this.uid}-fh" novalidate>
      <h3 id="${this.uid}-fh">Upload a certificate</h3>
      <div class="form-grid">
        <div class="field"><label for="${this.uid}-name">Name</label>
          <input id="${this.uid}-name" .value=${f.name} autocomplete="off" spellcheck="false" placeholder="e.g. broker, plant-ca" aria-invalid=${nameP ? 'true' : 'false'} aria-describedby="${this.uid}-name-problem"
            @input=${(e: Event) => this.set({ name: (e.target as HTMLInputElement).value })}>
          ${nameP ? html`<span class="field-problem" id="${this.uid}-name-problem">${nameP}</span>` : nothing}</div>
        <div class="field"><label for="${this.uid}-ca">Signed by (stored CA)</label>
          <select id="${this.uid}-ca" aria-describedby="${this.uid}-ca-problem" @change=${(e: Event) => this.set({ ca: (e.target as HTMLSelectElement).value })}>
            <option value="" ?selected=${f.ca === ''}>not checked against a stored CA</option>
            ${cas.map((n) => html`<option value=${n} ?selected=${n === f.ca}>${n}</option>`)}</select>
          ${caP ? html`<span class="field-problem" id="${this.uid}-ca-problem">${caP}</span>` : nothing}</div>
        ${this.pem('Certificate (PEM)', 'cert', 'The certificate, optionally followed by its chain (leaf first).')}
        ${this.pem('Private key (PEM, optional)', 'key', 'Needed for a listener or a bridge client certificate; without a passphrase. It is never shown again.')}
        <label class="inline wide"><input type="checkbox" .checked=${f.replace} @change=${(e: Event) => this.set({ replace: (e.target as HTMLInputElement).checked })}> Replace the certificate stored under this name</label>
      </div>
      <div class="actions">
        <button type="submit" class="primary" ?disabled=${this.busy}>${this.busy ? 'Uploading…' : 'Upload'}</button>
        <button type="button" @click=${() => { this.form = null; this.problems = {}; }}>Cancel</button>
      </div>
    </form>`;
  }

  private renderRow(c: CertificateView, admin: boolean) {
    const tone = expiryTone(c);
    return html`<tr data-certificate=${c.name}>
      <td data-label="Name"><strong>${c.name}</strong></td>
      <td data-label="Subject"><span class="mono small">${c.subject}</span>${c.issuer !== c.subject ? html`<br><span class="hint">issued by ${c.issuer}</span>` : nothing}</td>
      <td data-label="Expires"><span class="small">${formatTime(c.not_after)}</span><br>
        <span class="badge ${tone}" data-tone=${tone || 'ok'}>${expiryText(c)}</span></td>
      <td data-label="Holds" class="small">${certificateKind(c)}</td>
      <td data-label="Used by" class="small">${c.uses.length === 0 ? html`<span class="muted">nothing</span>` : c.uses.map((u) => html`<div>${u}</div>`)}</td>
      ${admin ? html`<td data-label=""><button type="button" class="danger" aria-label="Remove certificate ${c.name}" ?disabled=${this.busy || c.uses.length > 0}
        title=${c.uses.length > 0 ? `in use by ${c.uses.join(', ')}` : ''} @click=${() => this.removeOne(c)}>Remove</button></td>` : nothing}
    </tr>`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    const admin = this.services?.can('admin') ?? false;
    const why = this.services?.whyNot('admin');
    return html`
      ${this.message ? html`<p class="banner ${this.message.kind}" role=${this.message.kind === 'error' ? 'alert' : 'status'}>${this.message.text}</p>` : nothing}
      ${this.certificates.length === 0 ? html`<p class="muted small">No certificates stored. A TLS listener needs one with its private key.</p>` : html`
      <div class="table-wrap"><table class="stacking" data-testid="broker-certificates">
        <caption class="sr-only">Certificates</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Subject</th><th scope="col">Expires</th><th scope="col">Holds</th><th scope="col">Used by</th>${admin ? html`<th scope="col"><span class="sr-only">Actions</span></th>` : nothing}</tr></thead>
        <tbody>${this.certificates.map((c) => this.renderRow(c, admin))}</tbody>
      </table></div>
      ${this.truncated ? html`<p class="hint">Only the first certificates are listed.</p>` : nothing}`}
      ${admin
        ? (this.form ? this.renderForm(this.form) : html`<div class="actions"><button type="button" @click=${() => { this.form = emptyCertificateForm(); this.message = null; }}>Upload a certificate</button></div>`)
        : html`<p class="hint">Uploading and removing certificates ${why}.</p>`}`;
  }
}
customElements.define('broker-certificates', BrokerCertificates);
