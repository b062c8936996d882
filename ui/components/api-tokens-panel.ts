/**
 * API tokens (issue 17) on the Account screen (yours) and the Admin users screen (everyone's, for
 * admins): the list from GET /tokens (the server sends only what the caller may see), a form to
 * create one (POST /tokens; roles up to yours) and Revoke (DELETE /tokens/{name}). A new token is
 * shown once, with a copy button, and forgotten when the panel goes away.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { longName } from '../app/long-text.ts';
import { formatTime } from '../data/format.ts';
import {
  createBody, EXPIRY_CHOICES, grantableRoles, lastUseText, roleText, statusText, TOKEN_NAME_MAX, tokenNameProblem,
  type ApiTokenRow, type CreatedApiToken, type TokenForm,
} from '../data/token-model.ts';
import type { AdminRole } from '../data/roles.ts';
import { confirmDialog } from './mcm-confirm.ts';
import './mcm-copy-button.ts';

export class ApiTokensPanel extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    section.card { margin-bottom: 1rem; }
    code.token { font-size: .95rem; padding: .25rem .45rem; background: var(--bg-sunken); border-radius: 4px; overflow-wrap: anywhere; }
    td.actions-cell { white-space: nowrap; }
  `];
  static override properties = {
    ...McmScreen.properties,
    /** `all`: every token with its creator (admins); `own`: the signed-in user's. */
    scope: { type: String },
    tokens: { state: true },
    form: { state: true },
    touched: { state: true },
    created: { state: true },
    error: { state: true },
    busy: { state: true },
  };
  declare scope: 'own' | 'all';
  declare tokens: ApiTokenRow[] | null;
  declare form: TokenForm;
  declare touched: boolean;
  declare created: CreatedApiToken | null;
  declare error: string;
  declare busy: boolean;

  constructor() {
    super();
    this.scope = 'own';
    this.tokens = null;
    this.form = { name: '', role: 'viewer', expires: '90d' };
    this.touched = false;
    this.created = null;
    this.error = '';
    this.busy = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.created = null; // shown once
  }

  private async load(): Promise<void> {
    try {
      const page = await this.services.api.get<{ items: ApiTokenRow[] }>('/tokens', { limit: 1000 });
      const me = this.services.session.current()?.user.username;
      this.tokens = this.scope === 'own' ? page.items.filter((t) => t.owner === me) : page.items;
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    }
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.touched = true;
    if (tokenNameProblem(this.form.name.trim(), (this.tokens ?? []).map((t) => t.name)) !== null) return;
    this.busy = true;
    this.error = '';
    try {
      this.created = await this.services.api.post<CreatedApiToken>('/tokens', createBody(this.form));
      this.form = { ...this.form, name: '' };
      this.touched = false;
      await this.load();
      await this.updateComplete;
      (this.renderRoot.querySelector('#token-created-h') as HTMLElement | null)?.focus();
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private async revoke(t: ApiTokenRow): Promise<void> {
    const ok = await confirmDialog({
      title: `Revoke the token ${t.name}?`,
      message: 'Scripts using it are refused from their next request, and its open live streams close.',
      confirm: 'Revoke',
    });
    if (!ok) return;
    this.busy = true;
    try {
      await this.services.api.request('DELETE', `/tokens/${encodeURIComponent(t.name)}`);
      if (this.created?.name === t.name) this.created = null;
      this.services.notify({ kind: 'ok', text: `Token ${t.name} revoked.` });
      await this.load();
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private renderCreated(c: CreatedApiToken) {
    return html`
      <div class="banner ok" role="status" data-testid="token-created">
        <h3 id="token-created-h" tabindex="-1">Token ${c.name} created</h3>
        <p>Copy it now: it is shown only once. Send it as <code>Authorization: Bearer &lt;token&gt;</code>.</p>
        <p class="row"><code class="token" data-testid="token-value">${c.token}</code><mcm-copy-button .value=${c.token} label="Copy token"></mcm-copy-button>
          <button type="button" @click=${() => { this.created = null; }}>Done</button></p>
      </div>`;
  }

  private renderForm() {
    const mine = this.services.role();
    const roles = grantableRoles(mine);
    const problem = this.touched ? tokenNameProblem(this.form.name.trim(), (this.tokens ?? []).map((t) => t.name)) : null;
    return html`
      <form class="row" @submit=${(e: SubmitEvent) => this.create(e)} novalidate aria-label="Create an API token">
        <label>Name
          <input name="name" maxlength=${TOKEN_NAME_MAX} .value=${this.form.name} placeholder="ci-deploy" aria-invalid=${problem ? 'true' : 'false'} aria-describedby="token-name-help"
            @input=${(e: InputEvent) => { this.form = { ...this.form, name: (e.target as HTMLInputElement).value }; }}>
          <span id="token-name-help" class="small error">${problem ?? ''}</span>
        </label>
        <label>Role
          <select name="role" .value=${this.form.role} @change=${(e: Event) => { this.form = { ...this.form, role: (e.target as HTMLSelectElement).value as AdminRole }; }}>
            ${roles.map((r) => html`<option value=${r} ?selected=${r === this.form.role}>${r}</option>`)}
          </select>
        </label>
        <label>Expires
          <select name="expires" .value=${this.form.expires} @change=${(e: Event) => { this.form = { ...this.form, expires: (e.target as HTMLSelectElement).value }; }}>
            ${EXPIRY_CHOICES.map((c) => html`<option value=${c.value} ?selected=${c.value === this.form.expires}>${c.label}</option>`)}
          </select>
        </label>
        <button type="submit" class="primary" ?disabled=${this.busy}>Create token</button>
      </form>
      <p class="small muted">A token acts with its role (at most ${mine ?? 'yours'}) and never more than its creator's current role.</p>`;
  }

  override render() {
    const all = this.scope === 'all';
    const tokens = this.tokens;
    return html`
      <section class="card" aria-labelledby="tokens-h">
        <h2 id="tokens-h">${all ? 'API tokens (everyone\'s)' : 'Your API tokens'}</h2>
        <p class="muted">For scripts and CI: a token signs in without a password or MFA. Tokens can't change passwords or MFA${all ? '' : ', and manage identity only with the admin role'}.</p>
        ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
        ${this.created ? this.renderCreated(this.created) : nothing}
        ${all ? nothing : this.renderForm()}
        ${tokens === null ? html`<p class="muted" role="status">Loading…</p>` : tokens.length === 0 ? html`<p class="muted" data-testid="no-tokens">No API tokens.</p>` : html`
          <div class="table-wrap"><table data-testid="tokens-table">
            <thead><tr><th scope="col">Name</th><th scope="col">Role</th>${all ? html`<th scope="col">Creator</th>` : nothing}<th scope="col">Expires (UTC)</th><th scope="col">Status</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
            <tbody>${tokens.map((t) => html`<tr data-token=${t.name}>
              <td>${longName(t.name)}</td>
              <td>${roleText(t)}</td>
              ${all ? html`<td>${t.owner === null ? html`<span class="muted">the CLI</span>` : longName(t.owner)}</td>` : nothing}
              <td>${t.expires_at === null ? 'never' : formatTime(t.expires_at)}</td>
              <td><span class="badge ${t.status === 'active' ? 'ok' : 'warn'}">${statusText(t)}</span></td>
              <td>${lastUseText(t, formatTime)}</td>
              <td class="actions-cell"><button type="button" class="danger" ?disabled=${this.busy} @click=${() => this.revoke(t)}>Revoke<span class="sr-only"> ${t.name}</span></button></td>
            </tr>`)}</tbody>
          </table></div>`}
      </section>`;
  }
}
customElements.define('mcm-api-tokens', ApiTokensPanel);
