/**
 * ACL rules (DESIGN §5): the list (auditor) with a filter, and for operators a form to add a rule
 * (principal user:/role:/anonymous/pattern, topic filter checked as you type, access,
 * description), inline edit (topic, access, description) and delete. Each write fires
 * `access-changed` ({seq, what}) so the screen reloads and shows the apply status.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { seqFromEtag } from '../data/access-apply.ts';
import {
  ACCESS_HINTS, ACCESS_VALUES, buildPrincipal, literalSubstitutionHint, matchesQuery, principalLabel, PRINCIPAL_KINDS, ruleTopicProblem, splitPrincipal,
  type AclRule, type PrincipalKind,
} from '../data/access-model.ts';
import { confirmDialog } from './mcm-confirm.ts';
import { topicField, topicFieldStyles } from './access-topic-field.ts';
import { longName, longText } from '../app/long-text.ts';
import { describedBy, whyDisabled } from '../app/why-disabled.ts';

export type AccessChange = { seq: number | null; what: string };
type Editing = { id: number; topic: string; access: string; description: string };

const KIND_LABELS: Record<PrincipalKind, string> = {
  user: 'a user',
  role: 'a role',
  anonymous: 'anonymous clients',
  pattern: 'every user (pattern, %u %c)',
};

export class AccessRulesPanel extends McmScreen {
  static override styles = [...McmScreen.styles, topicFieldStyles, css`
    form.add { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-start; }
    form.add > label, form.add > .field { flex: 1 1 10rem; min-width: 0; }
    form.add select { max-width: 100%; }
    form.add .submit { align-self: flex-end; padding-bottom: .1rem; }
    td.topic, td.topic input { font-family: ui-monospace, Menlo, Consolas, monospace; }
    td.actions-cell { white-space: nowrap; }
    .edit-row td { background: var(--bg-sunken); }
  `];
  static override properties = {
    ...McmScreen.properties,
    rules: { attribute: false },
    truncated: { type: Boolean },
    users: { attribute: false },
    roles: { attribute: false },
    allowAnonymous: { attribute: false },
    backend: { attribute: false },
    kind: { state: true },
    name: { state: true },
    topic: { state: true },
    access: { state: true },
    description: { state: true },
    busy: { state: true },
    error: { state: true },
    query: { state: true },
    editing: { state: true },
  };
  declare rules: AclRule[];
  declare truncated: boolean;
  declare users: string[];
  declare roles: string[];
  declare allowAnonymous: boolean | null;
  /** Where rules are enforced (the apply status): the dynamic-security plugin has no patterns. */
  declare backend: 'files' | 'dynsec';
  declare kind: PrincipalKind;
  declare name: string;
  declare topic: string;
  declare access: string;
  declare description: string;
  declare busy: boolean;
  declare error: string;
  declare query: string;
  declare editing: Editing | null;

  constructor() {
    super();
    this.rules = [];
    this.truncated = false;
    this.users = [];
    this.roles = [];
    this.allowAnonymous = null;
    this.backend = 'files';
    this.kind = 'user';
    this.name = '';
    this.topic = '';
    this.access = 'read';
    this.description = '';
    this.busy = false;
    this.error = '';
    this.query = '';
    this.editing = null;
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

  private async add(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const p = buildPrincipal(this.kind, this.name.trim());
    if ('problem' in p) { this.error = p.problem; return; }
    if (ruleTopicProblem(this.topic)) return;
    const description = this.description.trim();
    const ok = await this.write('POST', '/acls', `rule ${principalLabel(p.principal)} ${this.access} ${this.topic} added`, {
      principal: p.principal, topic: this.topic, access: this.access, ...(description ? { description } : {}),
    });
    if (ok) {
      this.topic = '';
      this.description = '';
    }
  }

  private async saveEdit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const ed = this.editing;
    if (!ed || ruleTopicProblem(ed.topic)) return;
    if (await this.write('PUT', `/acls/${ed.id}`, `rule ${ed.id} changed`, { topic: ed.topic, access: ed.access, description: ed.description })) this.editing = null;
  }

  private async deleteRule(r: AclRule): Promise<void> {
    const ok = await confirmDialog({
      title: `Delete rule ${r.id}?`,
      message: `${principalLabel(r.principal)}: ${r.access} ${r.topic}. Clients lose what it granted once the change is applied.`,
      confirm: 'Delete rule',
    });
    if (!ok) return;
    if (this.editing?.id === r.id) this.editing = null;
    await this.write('DELETE', `/acls/${r.id}`, `rule ${r.id} deleted`);
  }

  private renderForm() {
    if (!this.services.can('operator')) {
      return html`<p class="muted small" data-testid="readonly-reason">Adding and changing rules ${this.services.whyNot('operator')}.</p>`;
    }
    const needsName = this.kind === 'user' || this.kind === 'role';
    const topicProblem = ruleTopicProblem(this.topic);
    const nameProblem = needsName && this.name.trim() !== '' ? (() => { const p = buildPrincipal(this.kind, this.name.trim()); return 'problem' in p ? p.problem : null; })() : null;
    const addWhy = needsName && this.name.trim() === '' ? `Enter the ${this.kind === 'user' ? 'username' : 'role name'} first.`
      : nameProblem !== null ? `The ${this.kind === 'user' ? 'username' : 'role name'} is not valid: ${nameProblem}.`
        : this.topic === '' ? 'Enter a topic filter first.'
          : topicProblem !== null ? `The topic filter is not valid: ${topicProblem}.` : null;
    const hint = this.kind === 'pattern' ? '%u is replaced by the username, %c by the client id' : literalSubstitutionHint(this.kind, this.topic) ?? undefined;
    return html`<form class="add" aria-label="Add an ACL rule" @submit=${(e: SubmitEvent) => this.add(e)}>
      <label>Rule for
        <select .value=${this.kind} @change=${(e: Event) => { this.kind = (e.target as HTMLSelectElement).value as PrincipalKind; }}>
          ${PRINCIPAL_KINDS.map((k) => {
            // A choice the backend can't enforce stays visible, off, and says why (issue 15, 16).
            const off = k === 'pattern' && this.backend === 'dynsec';
            return html`<option value=${k} ?selected=${k === this.kind} ?disabled=${off}>${KIND_LABELS[k]}${off ? ' — not with the dynamic-security plugin (no %u/%c)' : ''}</option>`;
          })}
        </select>
      </label>
      ${needsName ? html`<div class="field">
        <label for="rule-name">${this.kind === 'user' ? 'Username' : 'Role name'}</label>
        <input id="rule-name" list="rule-names" .value=${this.name} required autocomplete="off" spellcheck="false"
          aria-invalid=${nameProblem ? 'true' : 'false'} aria-describedby=${nameProblem ? 'rule-name-problem' : nothing}
          @input=${(e: Event) => { this.name = (e.target as HTMLInputElement).value; }}>
        <datalist id="rule-names">${(this.kind === 'user' ? this.users : this.roles).map((n) => html`<option value=${n}></option>`)}</datalist>
        ${nameProblem ? html`<p class="problem" id="rule-name-problem">${nameProblem}</p>` : ''}
      </div>` : ''}
      ${topicField({ id: 'rule-topic', label: 'Topic filter', value: this.topic, problem: topicProblem, onInput: (v) => { this.topic = v; }, required: true, placeholder: this.kind === 'pattern' ? 'devices/%u/#' : 'plant/line1/#', ...(hint ? { hint } : {}) })}
      <label>Access
        <select .value=${this.access} @change=${(e: Event) => { this.access = (e.target as HTMLSelectElement).value; }}>
          ${ACCESS_VALUES.map((a) => html`<option value=${a} ?selected=${a === this.access}>${a} — ${ACCESS_HINTS[a]}</option>`)}
        </select>
      </label>
      <label>Description <input .value=${this.description} maxlength="1024" @input=${(e: Event) => { this.description = (e.target as HTMLInputElement).value; }}></label>
      <div class="submit"><button class="primary" type="submit" ?disabled=${this.busy || addWhy !== null} aria-describedby=${describedBy('rule-add-why', addWhy)}>Add rule</button>
        ${whyDisabled('rule-add-why', addWhy)}</div>
    </form>
    ${this.kind === 'anonymous' && this.allowAnonymous === false ? html`<p class="banner warn small">Anonymous access is off: anonymous rules take effect only once an admin turns it on (settings).</p>` : ''}`;
  }

  private renderEditRow(r: AclRule, ed: Editing) {
    const problem = ruleTopicProblem(ed.topic);
    return html`<tr class="edit-row"><td colspan="6">
      <form class="add" aria-label="Edit rule ${r.id}" @submit=${(e: SubmitEvent) => this.saveEdit(e)}>
        ${topicField({ id: `edit-topic-${r.id}`, label: `Topic filter of rule ${r.id}`, value: ed.topic, problem, onInput: (v) => { this.editing = { ...ed, topic: v }; }, required: true })}
        <label>Access of rule ${r.id}
          <select .value=${ed.access} @change=${(e: Event) => { this.editing = { ...ed, access: (e.target as HTMLSelectElement).value }; }}>
            ${ACCESS_VALUES.map((a) => html`<option value=${a} ?selected=${a === ed.access}>${a}</option>`)}
          </select>
        </label>
        <label>Description of rule ${r.id} <input .value=${ed.description} maxlength="1024" @input=${(e: Event) => { this.editing = { ...ed, description: (e.target as HTMLInputElement).value }; }}></label>
        <div class="submit actions"><button class="primary" type="submit" ?disabled=${this.busy || problem !== null}>Save</button>
          <button type="button" @click=${() => { this.editing = null; }}>Cancel</button></div>
      </form>
    </td></tr>`;
  }

  private renderRow(r: AclRule) {
    const write = this.services.can('operator');
    const editing = this.editing?.id === r.id;
    const { kind } = splitPrincipal(r.principal);
    return html`<tr data-rule-id=${r.id}>
        <td>${r.id}</td>
        <td>${longName(r.principal)}${kind === 'anonymous' && this.allowAnonymous === false ? html` <span class="badge warn" title="anonymous access is off">inactive</span>` : ''}</td>
        <td class="topic">${r.topic}</td>
        <td><span class="badge ${r.access === 'deny' ? 'error' : ''}">${r.access}</span></td>
        <td>${r.description ? longText(r.description) : html`<span class="muted">—</span>`}</td>
        ${write ? html`<td class="actions-cell"><div class="actions">
          <button type="button" aria-expanded=${editing ? 'true' : 'false'} aria-label="Edit rule ${r.id}" @click=${() => { this.editing = editing ? null : { id: r.id, topic: r.topic, access: r.access, description: r.description }; }}>Edit</button>
          <button type="button" class="danger" aria-label="Delete rule ${r.id}" ?disabled=${this.busy} @click=${() => this.deleteRule(r)}>Delete</button>
        </div></td>` : ''}
      </tr>
      ${editing && this.editing ? this.renderEditRow(r, this.editing) : ''}`;
  }

  override render() {
    const write = this.services.can('operator');
    const shown = this.rules.filter((r) => matchesQuery(this.query, r.principal, r.topic, r.access, r.description));
    return html`<section class="card" aria-labelledby="rules-h">
      <h2 id="rules-h">ACL rules</h2>
      <p class="muted small">Every rule, those of roles (principal role:…) included. Rules are checked by the broker in its own order: Explain below shows which one decides.</p>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
      ${this.renderForm()}
      ${this.rules.length === 0 ? html`<p class="muted">No ACL rules yet: with none, users may do nothing on the broker. ${write ? 'Add one above.' : 'An operator can add them.'}</p>` : html`
        <div class="toolbar">
          <label class="inline">Filter rules <input type="search" .value=${this.query} placeholder="principal, topic, access" @input=${(e: Event) => { this.query = (e.target as HTMLInputElement).value; }}></label>
          <span class="muted small">${shown.length} of ${this.rules.length}${this.truncated ? ' (only the first ones are loaded)' : ''}</span>
        </div>
        <div class="table-wrap"><table>
          <caption class="sr-only">ACL rules</caption>
          <thead><tr><th scope="col">ID</th><th scope="col">Principal</th><th scope="col">Topic filter</th><th scope="col">Access</th><th scope="col">Description</th>${write ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
          <tbody>${shown.map((r) => this.renderRow(r))}</tbody>
        </table></div>`}
    </section>`;
  }
}
customElements.define('access-rules-panel', AccessRulesPanel);
