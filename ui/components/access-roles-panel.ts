/**
 * Roles (DESIGN §5): named sets of rules granted to MQTT users. The list (auditor) with who holds
 * each role; for operators: create a role with its rules, edit its description and rules (PUT
 * replaces the rule set), delete it — refused by the server while it is granted, and the
 * server's reason is shown. Writes fire `access-changed` ({seq, what}).
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { seqFromEtag } from '../data/access-apply.ts';
import { roleNameProblem, rowsFromRules, rowsProblem, rowsValid, type Role, type RoleDetail, type RuleRow } from '../data/access-model.ts';
import type { AccessChange } from './access-rules-panel.ts';
import { confirmDialog } from './mcm-confirm.ts';
import './access-rule-rows.ts';
import { longName, longText } from '../app/long-text.ts';

type Open = { name: string; description: string; rows: RuleRow[]; loaded: boolean };

export class AccessRolesPanel extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    form.create { display: flex; flex-direction: column; gap: .6rem; }
    .problem { margin: 0; font-size: .85em; color: var(--danger); }
    .names { display: flex; flex-wrap: wrap; gap: .25rem; }
    td.actions-cell { white-space: nowrap; }
    .open-row td { background: var(--bg-sunken); }
    details > summary { cursor: pointer; font-weight: 600; }
  `];
  static override properties = {
    ...McmScreen.properties,
    roles: { attribute: false },
    truncated: { type: Boolean },
    name: { state: true },
    description: { state: true },
    rows: { state: true },
    open: { state: true },
    busy: { state: true },
    error: { state: true },
  };
  declare roles: Role[];
  declare truncated: boolean;
  declare name: string;
  declare description: string;
  declare rows: RuleRow[];
  declare open: Open | null;
  declare busy: boolean;
  declare error: string;

  constructor() {
    super();
    this.roles = [];
    this.truncated = false;
    this.name = '';
    this.description = '';
    this.rows = [{ topic: '', access: 'read' }];
    this.open = null;
    this.busy = false;
    this.error = '';
  }

  private async write(method: string, path: string, what: string, body?: unknown): Promise<boolean> {
    this.busy = true;
    this.error = '';
    try {
      const res = await this.services.api.request(method, path, body === undefined ? {} : { body });
      this.dispatchEvent(new CustomEvent<AccessChange>('access-changed', { detail: { seq: seqFromEtag(res.etag), what }, bubbles: true, composed: true }));
      return true;
    } catch (err) {
      this.error = this.errorText(err);
      return false;
    } finally {
      this.busy = false;
    }
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const name = this.name.trim();
    if (roleNameProblem(name) || !rowsValid(this.rows)) return;
    const description = this.description.trim();
    const ok = await this.write('POST', '/roles', `role "${name}" created`, {
      name, ...(description ? { description } : {}), rules: this.rows,
    });
    if (ok) {
      this.name = '';
      this.description = '';
      this.rows = [{ topic: '', access: 'read' }];
    }
  }

  private async toggleOpen(r: Role): Promise<void> {
    if (this.open?.name === r.name) { this.open = null; return; }
    this.open = { name: r.name, description: r.description, rows: [], loaded: false };
    try {
      const detail = await this.services.api.get<RoleDetail>(`/roles/${encodeURIComponent(r.name)}`);
      if (this.open?.name === r.name) this.open = { name: r.name, description: detail.description, rows: rowsFromRules(detail.rules), loaded: true };
    } catch (err) {
      this.error = this.errorText(err);
      this.open = null;
    }
  }

  private async saveOpen(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const o = this.open;
    if (!o || !rowsValid(o.rows)) return;
    if (await this.write('PUT', `/roles/${encodeURIComponent(o.name)}`, `role "${o.name}" updated`, { description: o.description, rules: o.rows })) this.open = null;
  }

  private async deleteRole(r: Role): Promise<void> {
    const granted = r.users.length > 0 ? ` It is granted to ${r.users.length} user(s): the server refuses to delete it until it is revoked.` : '';
    const ok = await confirmDialog({
      title: `Delete role ${r.name}?`,
      message: `The role and its ${r.rule_count} rule(s) are deleted.${granted}`,
      confirm: 'Delete role',
    });
    if (!ok) return;
    if (this.open?.name === r.name) this.open = null;
    await this.write('DELETE', `/roles/${encodeURIComponent(r.name)}`, `role "${r.name}" deleted`);
  }

  /** A submit button that, when disabled, says why next to it (issue 16), tied by aria-describedby. */
  private submitButton(label: string, whyId: string, why: string | null) {
    return html`<div class="submit-row"><button class="primary" type="submit" ?disabled=${why !== null} aria-describedby=${why ? whyId : nothing}>${label}</button>
      ${why ? html`<span class="small muted" id=${whyId}>${why}</span>` : nothing}</div>`;
  }

  private renderCreate() {
    if (!this.services.can('operator')) {
      return html`<p class="muted small" data-testid="readonly-reason">Creating and changing roles ${this.services.whyNot('operator')}.</p>`;
    }
    const nameProblem = this.name === '' ? null : roleNameProblem(this.name.trim());
    return html`<details>
      <summary>Create a role</summary>
      <form class="create" aria-label="Create a role" @submit=${(e: SubmitEvent) => this.create(e)}>
        <div class="row">
          <label>Role name
            <input .value=${this.name} required maxlength="128" autocomplete="off" spellcheck="false"
              aria-invalid=${nameProblem ? 'true' : 'false'} aria-describedby=${nameProblem ? 'role-name-problem' : nothing}
              @input=${(e: Event) => { this.name = (e.target as HTMLInputElement).value; }}>
          </label>
          <label>Description <input .value=${this.description} maxlength="1024" @input=${(e: Event) => { this.description = (e.target as HTMLInputElement).value; }}></label>
        </div>
        ${nameProblem ? html`<p class="problem" id="role-name-problem">${nameProblem}</p>` : ''}
        <access-rule-rows .rows=${this.rows} label="Rules of the new role" @rows-changed=${(e: CustomEvent<RuleRow[]>) => { this.rows = e.detail; }}></access-rule-rows>
        ${this.submitButton('Create role', 'create-why', this.busy ? 'Saving…' : this.name.trim() === '' ? 'Give the role a name first.' : nameProblem !== null ? 'Fix the role name first.' : rowsProblem(this.rows))}
      </form>
    </details>`;
  }

  private renderOpen(r: Role, o: Open) {
    if (!o.loaded) return html`<tr class="open-row"><td colspan="5"><span class="muted" role="status">Loading the rules of ${r.name}…</span></td></tr>`;
    if (!this.services.can('operator')) {
      return html`<tr class="open-row"><td colspan="5">
        ${o.rows.length === 0 ? html`<p class="muted">No rules: the role grants nothing.</p>` : html`<table><caption class="sr-only">Rules of ${r.name}</caption>
          <thead><tr><th scope="col">Topic filter</th><th scope="col">Access</th></tr></thead>
          <tbody>${o.rows.map((row) => html`<tr><td class="mono">${row.topic}</td><td>${row.access}</td></tr>`)}</tbody></table>`}
      </td></tr>`;
    }
    return html`<tr class="open-row"><td colspan="5">
      <form class="create" aria-label="Edit role ${r.name}" @submit=${(e: SubmitEvent) => this.saveOpen(e)}>
        <label>Description of ${r.name} <input .value=${o.description} maxlength="1024" @input=${(e: Event) => { this.open = { ...o, description: (e.target as HTMLInputElement).value }; }}></label>
        <access-rule-rows .rows=${o.rows} label="Rules of role ${r.name}" @rows-changed=${(e: CustomEvent<RuleRow[]>) => { this.open = { ...o, rows: e.detail }; }}></access-rule-rows>
        <div class="actions">${this.submitButton('Save role', `save-why-${r.name}`, this.busy ? 'Saving…' : rowsProblem(o.rows))}
          <button type="button" @click=${() => { this.open = null; }}>Cancel</button></div>
      </form>
    </td></tr>`;
  }

  override render() {
    const write = this.services.can('operator');
    return html`<section class="card" aria-labelledby="roles-h">
      <h2 id="roles-h">Roles</h2>
      <p class="muted small">A role is a named set of rules; grant it to users on the MQTT users page.</p>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
      ${this.renderCreate()}
      ${this.roles.length === 0 ? html`<p class="muted">No roles yet. ${write ? 'Create one above, then grant it to users.' : 'An operator can create them.'}</p>` : html`
        ${this.truncated ? html`<p class="muted small">Only the first ${this.roles.length} roles are loaded.</p>` : ''}
        <div class="table-wrap"><table>
          <caption class="sr-only">Roles</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Rules</th><th scope="col">Granted to</th><th scope="col">Actions</th></tr></thead>
          <tbody>${this.roles.map((r) => {
            const isOpen = this.open?.name === r.name;
            return html`<tr data-role=${r.name}>
                <td><strong>${longName(r.name)}</strong></td>
                <td>${r.description ? longText(r.description) : html`<span class="muted">—</span>`}</td>
                <td>${r.rule_count}</td>
                <td><span class="names">${r.users.length === 0 ? html`<span class="muted">nobody</span>` : r.users.map((u) => html`<span class="badge">${u}</span>`)}</span></td>
                <td class="actions-cell"><div class="actions">
                  <button type="button" aria-expanded=${isOpen ? 'true' : 'false'} aria-label="${write ? 'Edit' : 'Show'} the rules of role ${r.name}" @click=${() => this.toggleOpen(r)}>${write ? 'Edit rules' : 'Show rules'}</button>
                  ${write ? html`<button type="button" class="danger" aria-label="Delete role ${r.name}" ?disabled=${this.busy} @click=${() => this.deleteRole(r)}>Delete</button>` : ''}
                </div></td>
              </tr>
              ${isOpen && this.open ? this.renderOpen(r, this.open) : ''}`;
          })}</tbody>
        </table></div>`}
    </section>`;
  }
}
customElements.define('access-roles-panel', AccessRolesPanel);
