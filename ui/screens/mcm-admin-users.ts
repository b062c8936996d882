/**
 * Admin users (DESIGN §5, §8-9): the people who use MCM. Auditors and above read the list
 * (GET /admin-users: username, role, disabled, MFA); admins create (username, password, role),
 * change roles, disable and enable, reset passwords and delete (with a confirmation). The server
 * refuses to remove, disable or demote the last active admin (409 MCM_ERR_LAST_ADMIN): its
 * message is shown as it comes. A role, password or disabled change ends that user's sessions;
 * doing it to yourself ends yours, so the confirmation says so. The list follows live
 * `event_appended` messages on admin-user streams. Admins also see the sign-in locks (GET
 * /lockouts: which username from which address, or which address, is locked and until when,
 * and which usernames are only slowed down) and lift them (DELETE /lockouts), as
 * `mcm admins unlock` does.
 */
import '../components/api-tokens-panel.ts';
import { css, html, nothing } from 'lit';
import { longName } from '../app/long-text.ts';
import { McmScreen } from '../app/mcm-screen.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import {
  adminPasswordProblem, adminUsernameProblem, endsSessionsOf, removesLastAdmin, upsertUser, type AdminUser,
} from '../data/admin-users-model.ts';
import { formatTime } from '../data/format.ts';
import {
  isLockedSomewhere, liftLockout, loadLockouts, lockoutKey, lockoutState, lockoutWhat, type Lockout,
} from '../data/lockouts-model.ts';
import type { LiveMessage } from '../data/live-client.ts';
import { ADMIN_ROLES, type AdminRole } from '../data/roles.ts';
import { LiveController } from '../controllers/live-controller.ts';

const ROLE_HELP: Readonly<Record<AdminRole, string>> = {
  viewer: 'dashboard, topics, clients, explain',
  auditor: 'viewer + users, rules, audit and security logs (read only)',
  operator: 'auditor + changes to MQTT users, roles, rules, schemas; broker actions',
  admin: 'everything, including admin users, webhooks, settings and GitOps',
};

export class McmAdminUsers extends McmScreen {
  static override styles = [...McmScreen.styles, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    section.card { margin-bottom: 1rem; }
    form.create { margin-top: .4rem; }
    tr.me > td:first-child { font-weight: 600; }
    td.actions-cell { min-width: 18rem; }
    .reset { display: flex; flex-wrap: wrap; gap: .4rem; align-items: flex-end; margin-top: .4rem; }
    dl.roles { display: grid; grid-template-columns: max-content 1fr; gap: .15rem .8rem; margin: .4rem 0 0; }
    dl.roles dt { font-weight: 600; }
    dl.roles dd { margin: 0; }
  `];

  static override properties = {
    ...McmScreen.properties,
    users: { state: true }, loading: { state: true }, error: { state: true }, actionError: { state: true }, busy: { state: true },
    createUsername: { state: true }, createPassword: { state: true }, createRole: { state: true }, createTouched: { state: true }, createError: { state: true },
    resetFor: { state: true }, resetPassword: { state: true }, resetError: { state: true }, roleDrafts: { state: true },
    lockouts: { state: true }, lockoutsError: { state: true },
  };
  declare users: AdminUser[];
  declare loading: boolean;
  declare error: string;
  declare actionError: string;
  declare busy: string;
  declare createUsername: string;
  declare createPassword: string;
  declare createRole: AdminRole;
  declare createTouched: boolean;
  declare createError: string;
  declare resetFor: string | null;
  declare resetPassword: string;
  declare resetError: string;
  declare roleDrafts: Readonly<Record<string, AdminRole>>;
  declare lockouts: Lockout[];
  declare lockoutsError: string;

  private reloadTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    super();
    this.users = [];
    this.loading = false;
    this.error = '';
    this.actionError = '';
    this.busy = '';
    this.createUsername = '';
    this.createPassword = '';
    this.createRole = 'viewer';
    this.createTouched = false;
    this.createError = '';
    this.resetFor = null;
    this.resetPassword = '';
    this.resetError = '';
    this.roleDrafts = {};
    this.lockouts = [];
    this.lockoutsError = '';
    new LiveController(this, () => this.services?.live, {
      event_appended: (m) => this.onAppended(m),
    }, () => this.scheduleReload());
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
  }

  private me(): string | undefined {
    return this.services.session.current()?.user.username;
  }

  private async load(): Promise<void> {
    this.loading = true;
    try {
      const page = await this.services.api.get<{ items: AdminUser[] }>('/admin-users', { limit: 1000 });
      this.users = page.items;
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.loading = false;
    }
    if (this.services.can('admin')) await this.loadLockouts();
  }

  private async loadLockouts(): Promise<void> {
    try {
      this.lockouts = (await loadLockouts(this.services.api)).items;
      this.lockoutsError = '';
    } catch (err) {
      this.lockoutsError = this.errorText(err);
    }
  }

  private async unlock(l: Lockout): Promise<void> {
    const what = lockoutWhat(l);
    const ok = await confirmDialog({
      title: 'Lift this sign-in lock?',
      message: `The failed attempts behind it are forgotten and ${what} can be tried again at once. The security log records that you lifted it.`,
      confirm: 'Unlock',
    });
    if (!ok) return;
    await this.act(`lockout:${lockoutKey(l)}`, async () => {
      await liftLockout(this.services.api, l);
      this.services.notify({ kind: 'ok', text: `Unlocked ${what}.` });
      await this.loadLockouts();
    });
  }

  private renderLockouts() {
    const now = this.services.now();
    return html`
      <section class="card" aria-labelledby="locks-h" data-testid="lockouts">
        <div class="toolbar">
          <h2 id="locks-h">Sign-in locks</h2>
          <span class="spacer"></span>
          <button type="button" @click=${() => this.loadLockouts()}>Reload<span class="sr-only"> sign-in locks</span></button>
        </div>
        <p class="muted small">Repeated failed sign-ins lock a username from one address, or an address for every username; a username alone is only slowed down. Locks end by themselves; Unlock lifts one now.</p>
        ${this.lockoutsError ? html`<p class="banner error" role="alert">${this.lockoutsError}</p>` : nothing}
        ${this.lockouts.length === 0
          ? html`<p class="muted">No sign-in is locked or slowed down.</p>`
          : html`<div class="table-wrap"><table data-testid="lockouts-table">
            <caption class="sr-only">Sign-in locks</caption>
            <thead><tr><th scope="col">What</th><th scope="col">State</th><th scope="col">Actions</th></tr></thead>
            <tbody>${this.lockouts.map((l) => html`
              <tr data-lockout=${lockoutKey(l)}>
                <td>${lockoutWhat(l)}</td>
                <td>${l.scope === 'username' ? html`<span class="badge">slowed</span>` : html`<span class="badge warn">locked</span>`} ${lockoutState(l, now)}</td>
                <td><button type="button" ?disabled=${this.busy === `lockout:${lockoutKey(l)}`} @click=${() => this.unlock(l)}>Unlock<span class="sr-only"> ${lockoutWhat(l)}</span></button></td>
              </tr>`)}
            </tbody>
          </table></div>`}
      </section>`;
  }

  private onAppended(m: LiveMessage): void {
    if (typeof m['stream'] === 'string' && m['stream'].startsWith('admin-user:')) this.scheduleReload();
  }

  private scheduleReload(): void {
    if (this.reloadTimer) return;
    this.reloadTimer = setTimeout(() => { this.reloadTimer = null; void this.load(); }, 200);
  }

  /** Runs a write; a failure (e.g. MCM_ERR_LAST_ADMIN) is shown above the table as the server said it. */
  private async act(key: string, fn: () => Promise<void>): Promise<void> {
    this.busy = key;
    this.actionError = '';
    try {
      await fn();
    } catch (err) {
      this.actionError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  private async changeUser(user: AdminUser, change: { role?: AdminRole; disabled?: boolean; password?: string }, what: string, doneText: string): Promise<boolean> {
    const self = user.username === this.me();
    const last = removesLastAdmin(this.users, user, change);
    if (self || last || change.disabled === true || change.role !== undefined) {
      const ok = await confirmDialog({
        title: `${what}?`,
        message: [
          `${what} for ${user.username}.`,
          !endsSessionsOf(change) ? '' : self ? 'This is your own account: your session ends and you sign in again.' : 'Their open sessions end at once.',
          last ? `${user.username} is the last active admin: the server will refuse this.` : '',
        ].filter(Boolean).join(' '),
        confirm: what,
      });
      if (!ok) return false;
    }
    let done = false;
    await this.act(`${user.username}:${what}`, async () => {
      const updated = await this.services.api.put<AdminUser>(`/admin-users/${encodeURIComponent(user.username)}`, change);
      this.users = upsertUser(this.users, updated);
      this.services.notify({ kind: 'ok', text: doneText });
      done = true;
    });
    return done;
  }

  private dropDraft(username: string): void {
    const { [username]: _, ...rest } = this.roleDrafts;
    this.roleDrafts = rest;
  }

  private async saveRole(user: AdminUser, role: AdminRole): Promise<void> {
    // Whatever the outcome (saved, cancelled, refused), the select shows the real role again.
    await this.changeUser(user, { role }, `Change role to ${role}`, `${user.username} is now ${role}.`);
    this.dropDraft(user.username);
  }

  private async deleteUser(user: AdminUser): Promise<void> {
    const self = user.username === this.me();
    const ok = await confirmDialog({
      title: `Delete admin user ${user.username}?`,
      message: `${user.username} can no longer sign in; the audit log keeps what they did.${self ? ' This is your own account: your session ends.' : ''}${removesLastAdmin(this.users, user, { deleted: true }) ? ' This is the last active admin: the server will refuse.' : ''}`,
      confirm: 'Delete',
    });
    if (!ok) return;
    await this.act(`${user.username}:delete`, async () => {
      await this.services.api.del(`/admin-users/${encodeURIComponent(user.username)}`);
      this.users = this.users.filter((u) => u.username !== user.username);
      this.services.notify({ kind: 'ok', text: `Admin user ${user.username} deleted.` });
    });
  }

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.createTouched = true;
    if (adminUsernameProblem(this.createUsername) || adminPasswordProblem(this.createPassword)) return;
    this.busy = 'create';
    this.createError = '';
    try {
      const user = await this.services.api.post<AdminUser>('/admin-users', { username: this.createUsername, password: this.createPassword, role: this.createRole });
      this.users = upsertUser(this.users, user);
      this.services.notify({ kind: 'ok', text: `Admin user ${user.username} created with role ${user.role}. Give them the password through a safe channel.` });
      this.createUsername = '';
      this.createPassword = '';
      this.createRole = 'viewer';
      this.createTouched = false;
    } catch (err) {
      this.createError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  private async submitReset(e: SubmitEvent, user: AdminUser): Promise<void> {
    e.preventDefault();
    const problem = adminPasswordProblem(this.resetPassword);
    this.resetError = problem ?? '';
    if (problem) return;
    if (await this.changeUser(user, { password: this.resetPassword }, 'Reset password', `New password set for ${user.username}; their sessions ended.`)) {
      this.resetFor = null;
      this.resetPassword = '';
    }
  }

  private renderCreate() {
    const uProblem = this.createTouched || this.createUsername ? adminUsernameProblem(this.createUsername) : null;
    const pProblem = this.createTouched || this.createPassword ? adminPasswordProblem(this.createPassword) : null;
    return html`
      <section class="card" aria-labelledby="create-h">
        <h2 id="create-h">Create an admin user</h2>
        ${this.createError ? html`<p class="banner error" role="alert">${this.createError}</p>` : nothing}
        <form class="row create" @submit=${(e: SubmitEvent) => this.create(e)} novalidate>
          <label>Username
            <input name="username" autocomplete="off" .value=${this.createUsername} aria-invalid=${uProblem ? 'true' : 'false'} aria-describedby="create-username-help"
              @input=${(e: InputEvent) => { this.createUsername = (e.target as HTMLInputElement).value; }}>
          </label>
          <label>Password
            <input name="password" type="password" autocomplete="new-password" .value=${this.createPassword} aria-invalid=${pProblem ? 'true' : 'false'} aria-describedby="create-password-help"
              @input=${(e: InputEvent) => { this.createPassword = (e.target as HTMLInputElement).value; }}>
          </label>
          <label>Role
            <select name="role" .value=${this.createRole} @change=${(e: Event) => { this.createRole = (e.target as HTMLSelectElement).value as AdminRole; }}>
              ${ADMIN_ROLES.map((r) => html`<option value=${r} ?selected=${r === this.createRole}>${r}</option>`)}
            </select>
          </label>
          <button type="submit" class="primary" ?disabled=${this.busy === 'create'}>Create admin user</button>
        </form>
        <p id="create-username-help" class="small ${uProblem ? 'error' : 'muted'}">${uProblem ?? 'Letters, digits, ".", "_", "@" and "-"; up to 64 characters.'}</p>
        <p id="create-password-help" class="small ${pProblem ? 'error' : 'muted'}">${pProblem ?? 'At least 12 characters. They can change it on their Account page.'}</p>
        <details>
          <summary class="small">What each role can do</summary>
          <dl class="roles small">${ADMIN_ROLES.map((r) => html`<dt>${r}</dt><dd>${ROLE_HELP[r]}</dd>`)}</dl>
        </details>
      </section>`;
  }

  private renderActions(u: AdminUser) {
    const busy = this.busy.startsWith(`${u.username}:`);
    const resetting = this.resetFor === u.username;
    // A role picked in the select is a draft until saved: arrow keys on a closed select fire
    // `change` at every step, and a confirmation per keypress would make it unusable by keyboard.
    const draft = this.roleDrafts[u.username] ?? u.role;
    return html`
      <div class="actions">
        <select aria-label="Role of ${u.username}" .value=${draft} ?disabled=${busy}
          @change=${(e: Event) => { this.roleDrafts = { ...this.roleDrafts, [u.username]: (e.target as HTMLSelectElement).value as AdminRole }; }}>
          ${ADMIN_ROLES.map((r) => html`<option value=${r} ?selected=${r === draft}>${r}</option>`)}
        </select>
        ${draft !== u.role ? html`
          <button type="button" class="primary" ?disabled=${busy} @click=${() => this.saveRole(u, draft)}>Save role<span class="sr-only"> of ${u.username}</span></button>
          <button type="button" ?disabled=${busy} @click=${() => this.dropDraft(u.username)}>Undo<span class="sr-only"> role change of ${u.username}</span></button>` : nothing}
        <button type="button" ?disabled=${busy} @click=${() => this.changeUser(u, { disabled: !u.disabled }, u.disabled ? 'Enable' : 'Disable', `${u.username} ${u.disabled ? 'enabled' : 'disabled: their sessions ended'}.`)}>${u.disabled ? 'Enable' : 'Disable'}<span class="sr-only"> ${u.username}</span></button>
        <button type="button" ?disabled=${busy} aria-expanded=${resetting ? 'true' : 'false'}
          @click=${() => { this.resetFor = resetting ? null : u.username; this.resetPassword = ''; this.resetError = ''; }}>Reset password<span class="sr-only"> of ${u.username}</span></button>
        <button type="button" class="danger" ?disabled=${busy} @click=${() => this.deleteUser(u)}>Delete<span class="sr-only"> ${u.username}</span></button>
      </div>
      ${resetting ? html`
        <form class="reset" @submit=${(e: SubmitEvent) => this.submitReset(e, u)} novalidate>
          <label>New password for ${u.username}
            <input type="password" autocomplete="new-password" .value=${this.resetPassword} aria-invalid=${this.resetError ? 'true' : 'false'}
              @input=${(e: InputEvent) => { this.resetPassword = (e.target as HTMLInputElement).value; this.resetError = ''; }}>
          </label>
          <button type="submit" class="primary" ?disabled=${busy}>Set password</button>
          <button type="button" @click=${() => { this.resetFor = null; }}>Cancel</button>
          ${this.resetError ? html`<span class="small error" role="alert">${this.resetError}</span>` : nothing}
        </form>` : nothing}`;
  }

  override render() {
    const canWrite = this.services.can('admin');
    const me = this.me();
    return html`
      <h1>Admin users</h1>
      <p class="muted">The people who use MCM (not MQTT users). ${canWrite ? '' : html`<span data-testid="read-only-note">Read only: changes ${this.services.whyNot('admin')}.</span>`}</p>
      ${canWrite ? this.renderCreate() : nothing}
      <section class="card" aria-labelledby="list-h">
        <div class="toolbar">
          <h2 id="list-h">Accounts</h2>
          <span class="spacer"></span>
          <button type="button" @click=${() => this.load()} ?disabled=${this.loading}>Reload</button>
        </div>
        ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
        ${this.actionError ? html`<p class="banner error" role="alert" data-testid="action-error">${this.actionError}</p>` : nothing}
        ${this.users.length === 0
          ? html`<p class="muted">${this.loading ? 'Loading…' : this.error ? '' : 'No admin users.'}</p>`
          : html`<div class="table-wrap"><table data-testid="admin-users-table">
            <caption class="sr-only">Admin users</caption>
            <thead><tr><th scope="col">Username</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">MFA</th><th scope="col">Created (UTC)</th>${canWrite ? html`<th scope="col">Actions</th>` : nothing}</tr></thead>
            <tbody>${this.users.map((u) => html`
              <tr class=${u.username === me ? 'me' : ''} data-username=${u.username}>
                <td>${longName(u.username)}${u.username === me ? html` <span class="badge">you</span>` : nothing}</td>
                <td><span class="badge" data-role=${u.role}>${u.role}</span></td>
                <td>${u.disabled ? html`<span class="badge warn">disabled</span>` : html`<span class="badge ok">active</span>`}${isLockedSomewhere(u.username, this.lockouts) ? html` <span class="badge warn" title="Sign-in locked from some address: see Sign-in locks">sign-in locked</span>` : nothing}</td>
                <td>${u.mfa_enabled ? html`<span class="badge ok">on</span>` : html`<span class="muted">off</span>`}</td>
                <td>${formatTime(u.created_at)}</td>
                ${canWrite ? html`<td class="actions-cell">${this.renderActions(u)}</td>` : nothing}
              </tr>`)}
            </tbody>
          </table></div>`}
      </section>
      ${canWrite ? this.renderLockouts() : nothing}
      ${canWrite ? html`<mcm-api-tokens .services=${this.services} scope="all"></mcm-api-tokens>` : nothing}`;
  }
}
customElements.define('mcm-admin-users', McmAdminUsers);
