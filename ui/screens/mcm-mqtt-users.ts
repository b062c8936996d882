/**
 * MQTT users (DESIGN §5, §8): the broker's password-file accounts. Auditors read the list;
 * operators create users (a password they type, or one MCM generates and shows once), reset
 * passwords (generated, shown once), enable and disable them, edit description and roles, and
 * delete them. After each change the apply status says when the broker enforces it.
 */
import { css, html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { seqFromEtag } from '../data/access-apply.ts';
import { fetchAll, matchesQuery, type MqttUser, type Page, type Role } from '../data/access-model.ts';
import { formatAgo } from '../data/format.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import '../components/access-apply-status.ts';
import '../components/users-one-time-password.ts';
import { longName, longText } from '../app/long-text.ts';

type Secret = { username: string; password: string; action: 'created' | 'reset' };
type Edit = { username: string; description: string; roles: string[] };

export class McmMqttUsers extends McmScreen {
  static override styles = [...McmScreen.styles, css`
    .create { display: grid; gap: .6rem; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); align-items: end; }
    fieldset { border: 1px solid var(--border); border-radius: 8px; padding: .4rem .7rem; margin: 0; }
    fieldset.roles { grid-column: 1 / -1; }
    legend { font-weight: 500; padding: 0 .3rem; }
    .checks { display: flex; flex-wrap: wrap; gap: .2rem 1rem; }
    td.actions-cell { white-space: nowrap; }
    .role-badges { display: flex; flex-wrap: wrap; gap: .25rem; }
    tr.disabled td:first-child { text-decoration: line-through; color: var(--fg-muted); }
    .edit td { background: var(--bg-sunken); }
    .edit .row label { flex: 1 1 16rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    users: { state: true },
    roles: { state: true },
    truncated: { state: true },
    loading: { state: true },
    error: { state: true },
    query: { state: true },
    secret: { state: true },
    applySeq: { state: true },
    applyWhat: { state: true },
    busy: { state: true },
    edit: { state: true },
    createRoles: { state: true },
  };
  declare users: MqttUser[];
  declare roles: string[];
  declare truncated: boolean;
  declare loading: boolean;
  declare error: string;
  declare query: string;
  declare secret: Secret | null;
  declare applySeq: number | null;
  declare applyWhat: string;
  declare busy: boolean;
  declare edit: Edit | null;
  declare createRoles: string[];

  constructor() {
    super();
    this.users = [];
    this.roles = [];
    this.truncated = false;
    this.loading = true;
    this.error = '';
    this.query = '';
    this.secret = null;
    this.applySeq = null;
    this.applyWhat = '';
    this.busy = false;
    this.edit = null;
    this.createRoles = [];
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private get canWrite(): boolean {
    return this.services.can('operator');
  }

  private async load(): Promise<void> {
    const get = <T>(path: string, q: Record<string, string | number>) => this.services.api.get<Page<T>>(path, q);
    try {
      const [users, roles] = await Promise.all([fetchAll<MqttUser>(get, '/mqtt-users'), fetchAll<Role>(get, '/roles')]);
      this.users = users.items;
      this.truncated = users.truncated;
      this.roles = roles.items.map((r) => r.name);
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.loading = false;
    }
  }

  /** Runs a write; records its seq for the apply status, reloads the list. Returns the body or null on error. */
  private async write<T>(method: string, path: string, what: string, body?: unknown): Promise<T | null> {
    this.busy = true;
    this.error = '';
    try {
      const res = await this.services.api.request<T>(method, path, body === undefined ? {} : { body });
      this.applySeq = seqFromEtag(res.etag);
      this.applyWhat = what;
      await this.load();
      return res.body;
    } catch (err) {
      this.error = this.errorText(err);
      return null;
    } finally {
      this.busy = false;
    }
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const username = String(data.get('username') ?? '');
    const password = String(data.get('password') ?? '');
    const description = String(data.get('description') ?? '').trim();
    const body = {
      username,
      ...(password === '' ? {} : { password }),
      ...(description === '' ? {} : { description }),
      ...(this.createRoles.length > 0 ? { roles: this.createRoles } : {}),
    };
    const created = await this.write<MqttUser & { password?: string }>('POST', '/mqtt-users', `user "${username}" created`, body);
    if (!created) return;
    form.reset();
    this.createRoles = [];
    // One notice per action (issue 16): the apply status below names the creation and says when
    // the broker enforces it; a generated password has its own panel. No toast on top.
    this.secret = created.password ? { username, password: created.password, action: 'created' } : null;
  }

  private async resetPassword(u: MqttUser): Promise<void> {
    const ok = await confirmDialog({
      title: `Reset the password of ${u.username}?`,
      message: 'MCM generates a new password and shows it once. Devices using the old one are refused at their next connect once the change is applied.',
      confirm: 'Generate a new password',
    });
    if (!ok) return;
    const res = await this.write<{ password?: string }>('POST', `/mqtt-users/${encodeURIComponent(u.username)}/password`, `password of "${u.username}" reset`, {});
    if (res?.password) this.secret = { username: u.username, password: res.password, action: 'reset' };
  }

  private async toggle(u: MqttUser): Promise<void> {
    if (!u.disabled) {
      const ok = await confirmDialog({
        title: `Disable ${u.username}?`,
        message: 'The user is removed from the broker\'s password file: new connections with it are refused once the change is applied. You can enable it again later.',
        confirm: 'Disable',
      });
      if (!ok) return;
    }
    await this.write('PUT', `/mqtt-users/${encodeURIComponent(u.username)}`, `user "${u.username}" ${u.disabled ? 'enabled' : 'disabled'}`, { disabled: !u.disabled });
  }

  private async deleteUser(u: MqttUser): Promise<void> {
    const ok = await confirmDialog({
      title: `Delete ${u.username}?`,
      message: 'The user and its direct ACL rules are deleted. Devices using it are refused at their next connect once the change is applied. This cannot be undone (the audit log keeps the history).',
      confirm: 'Delete user',
    });
    if (!ok) return;
    if (this.edit?.username === u.username) this.edit = null;
    if (this.secret?.username === u.username) this.secret = null;
    await this.write('DELETE', `/mqtt-users/${encodeURIComponent(u.username)}`, `user "${u.username}" deleted`);
  }

  private async saveEdit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const ed = this.edit;
    if (!ed) return;
    const ok = await this.write('PUT', `/mqtt-users/${encodeURIComponent(ed.username)}`, `user "${ed.username}" updated`, { description: ed.description, roles: ed.roles });
    if (ok) this.edit = null;
  }

  private toggleIn(list: string[], name: string, on: boolean): string[] {
    return on ? [...new Set([...list, name])] : list.filter((r) => r !== name);
  }

  private renderRoleChecks(selected: string[], onChange: (next: string[]) => void, idPrefix: string) {
    if (this.roles.length === 0) return html`<p class="muted small">No roles yet. Define them on the <a href="/access" @click=${this.go}>Access</a> page.</p>`;
    return html`<div class="checks">${this.roles.map((r) => html`
      <label class="inline"><input type="checkbox" name=${idPrefix} .value=${r} .checked=${selected.includes(r)}
        @change=${(e: Event) => onChange(this.toggleIn(selected, r, (e.target as HTMLInputElement).checked))}>${r}</label>`)}</div>`;
  }

  private readonly go = (e: MouseEvent): void => {
    e.preventDefault();
    this.services.navigate((e.currentTarget as HTMLAnchorElement).getAttribute('href') ?? '/');
  };

  private renderCreate() {
    if (!this.canWrite) {
      return html`<p class="banner warn" data-testid="readonly-reason">You can read the users; creating and changing them ${this.services.whyNot('operator')}.</p>`;
    }
    return html`<section class="card" aria-labelledby="create-h">
      <h2 id="create-h">Create an MQTT user</h2>
      <form class="create" @submit=${(e: SubmitEvent) => this.create(e)}>
        <label>Username <input name="username" required autocomplete="off" spellcheck="false" maxlength="256"></label>
        <label>Password <input name="password" type="password" autocomplete="new-password" placeholder="leave empty to generate one" aria-describedby="pw-hint"></label>
        <label>Description <input name="description" maxlength="1024" autocomplete="off"></label>
        <fieldset class="roles"><legend>Roles</legend>${this.renderRoleChecks(this.createRoles, (next) => { this.createRoles = next; }, 'new-role')}</fieldset>
        <div class="row"><button class="primary" type="submit" ?disabled=${this.busy}>Create user</button>
          <span id="pw-hint" class="muted small">An empty password: MCM generates a strong one and shows it once.</span></div>
      </form>
    </section>`;
  }

  private renderEditRow(u: MqttUser, ed: Edit) {
    return html`<tr class="edit"><td colspan="6">
      <form class="stack" @submit=${(e: SubmitEvent) => this.saveEdit(e)} aria-label="Edit ${u.username}">
        <div class="row"><label>Description of ${u.username}
          <input .value=${ed.description} maxlength="1024" @input=${(e: Event) => { this.edit = { ...ed, description: (e.target as HTMLInputElement).value }; }}></label></div>
        <fieldset><legend>Roles of ${u.username}</legend>${this.renderRoleChecks(ed.roles, (roles) => { this.edit = { ...ed, roles }; }, `edit-role-${u.username}`)}</fieldset>
        <div class="actions"><button class="primary" type="submit" ?disabled=${this.busy}>Save</button>
          <button type="button" @click=${() => { this.edit = null; }}>Cancel</button></div>
      </form>
    </td></tr>`;
  }

  private renderRow(u: MqttUser) {
    const w = this.canWrite;
    const editing = this.edit?.username === u.username;
    return html`<tr class=${u.disabled ? 'disabled' : ''} data-username=${u.username}>
        <td><strong>${longName(u.username)}</strong></td>
        <td>${u.description ? longText(u.description) : html`<span class="muted">—</span>`}</td>
        <td><span class="role-badges">${u.roles.length === 0 ? html`<span class="muted">none</span>` : u.roles.map((r) => html`<span class="badge">${longName(r)}</span>`)}</span></td>
        <td>${u.disabled ? html`<span class="badge warn">disabled</span>` : html`<span class="badge ok">enabled</span>`}</td>
        <td class="small muted" title=${u.updated_at}>${formatAgo(u.updated_at, this.services.now())}</td>
        ${w ? html`<td class="actions-cell"><div class="actions">
          <button type="button" aria-expanded=${editing ? 'true' : 'false'} aria-label="Edit description and roles of ${u.username}" @click=${() => { this.edit = editing ? null : { username: u.username, description: u.description, roles: [...u.roles] }; }}>Edit</button>
          <button type="button" aria-label="Reset the password of ${u.username}" ?disabled=${this.busy} @click=${() => this.resetPassword(u)}>Reset password</button>
          <button type="button" aria-label="${u.disabled ? 'Enable' : 'Disable'} ${u.username}" ?disabled=${this.busy} @click=${() => this.toggle(u)}>${u.disabled ? 'Enable' : 'Disable'}</button>
          <button type="button" class="danger" aria-label="Delete ${u.username}" ?disabled=${this.busy} @click=${() => this.deleteUser(u)}>Delete</button>
        </div></td>` : ''}
      </tr>
      ${editing && this.edit ? this.renderEditRow(u, this.edit) : ''}`;
  }

  private renderList() {
    if (this.loading) return html`<p class="muted" role="status">Loading users…</p>`;
    const shown = this.users.filter((u) => matchesQuery(this.query, u.username, u.description, u.roles));
    if (this.users.length === 0) {
      return html`<p class="muted">No MQTT users yet. ${this.canWrite ? 'Create one above: devices then connect with its username and password.' : 'An operator can create them.'}</p>`;
    }
    return html`
      <div class="toolbar">
        <label class="inline">Filter <input type="search" .value=${this.query} placeholder="username, description or role" @input=${(e: Event) => { this.query = (e.target as HTMLInputElement).value; }}></label>
        <span class="muted small">${shown.length} of ${this.users.length}${this.truncated ? ' (only the first ones are loaded)' : ''}</span>
      </div>
      ${shown.length === 0 ? html`<p class="muted">No user matches “${this.query}”.</p>` : html`
      <div class="table-wrap"><table>
        <caption class="sr-only">MQTT users</caption>
        <thead><tr><th scope="col">Username</th><th scope="col">Description</th><th scope="col">Roles</th><th scope="col">Status</th><th scope="col">Updated</th>${this.canWrite ? html`<th scope="col">Actions</th>` : ''}</tr></thead>
        <tbody>${shown.map((u) => this.renderRow(u))}</tbody>
      </table></div>`}`;
  }

  override render() {
    return html`
      <h1>MQTT users</h1>
      <p class="muted">Accounts devices use to connect to the broker. What each may publish or subscribe to is set on the <a href="/access" @click=${this.go}>Access</a> page (direct rules or roles).</p>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
      ${this.secret ? html`<users-one-time-password .username=${this.secret.username} .password=${this.secret.password} .action=${this.secret.action} @dismiss=${() => { this.secret = null; }}></users-one-time-password>` : ''}
      <access-apply-status .services=${this.services} .seq=${this.applySeq} .what=${this.applyWhat}></access-apply-status>
      ${this.renderCreate()}
      <h2>Users</h2>
      ${this.renderList()}`;
  }
}
customElements.define('mcm-mqtt-users', McmMqttUsers);
