/**
 * <mcm-audit-state .state=${StateView}>: the read-only time-travel view of GET /state?at=SEQ —
 * MQTT users, roles, ACL rules, schemas, broker settings and the two rendered broker files
 * (password hashes redacted by the server). Long lists are cut at ROW_CAP rows, with a note.
 */
import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import type { StateView } from '../data/audit-model.ts';
import { shared } from '../styles/theme.ts';
import { longText } from '../app/long-text.ts';

const ROW_CAP = 500;

export class McmAuditState extends LitElement {
  static override styles = [shared, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    section { margin-top: .9rem; }
    caption { text-align: left; font-weight: 600; padding: .3rem 0; }
    .files { display: grid; gap: .9rem; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); }
    .counts { display: flex; flex-wrap: wrap; gap: .4rem 1rem; }
  `];
  static override properties = { state: { attribute: false } };
  declare state: StateView | null;

  constructor() {
    super();
    this.state = null;
  }

  private cap<T>(items: readonly T[], what: string, row: (item: T) => unknown) {
    const shown = items.slice(0, ROW_CAP);
    return html`${shown.map(row)}${items.length > ROW_CAP ? html`<tr><td colspan="5" class="muted">… ${items.length - ROW_CAP} more ${what} not shown here (the rendered file below has all of them).</td></tr>` : nothing}`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    const s = this.state;
    if (!s) return nothing;
    return html`
      <p class="counts small" data-testid="state-counts">
        <span><strong>${s.users.length}</strong> MQTT users</span>
        <span><strong>${s.roles.length}</strong> roles</span>
        <span><strong>${s.rules.length}</strong> ACL rules</span>
        <span><strong>${s.schemas.length}</strong> JSON schemas</span>
        <span>anonymous access <strong>${s.settings.allow_anonymous ? 'allowed' : 'refused'}</strong></span>
        <span>hash iterations <strong>${s.settings.hash_iterations}</strong></span>
        <span>files generation <strong>${s.generation}</strong></span>
      </p>
      <section aria-label="MQTT users at this seq">
        <div class="table-wrap"><table>
          <caption>MQTT users</caption>
          <thead><tr><th scope="col">Username</th><th scope="col">Roles</th><th scope="col">Status</th><th scope="col">Description</th></tr></thead>
          <tbody>
            ${s.users.length === 0 ? html`<tr><td colspan="4" class="muted">No MQTT users at this seq.</td></tr>` : this.cap(s.users, 'users', (u) => html`
              <tr><td class="mono">${u.username}</td><td>${u.roles.join(', ') || html`<span class="muted">none</span>`}</td>
              <td>${u.disabled ? html`<span class="badge warn">disabled</span>` : html`<span class="badge ok">enabled</span>`}</td><td>${longText(u.description)}</td></tr>`)}
          </tbody>
        </table></div>
      </section>
      <section aria-label="ACL rules at this seq">
        <div class="table-wrap"><table>
          <caption>ACL rules</caption>
          <thead><tr><th scope="col">Id</th><th scope="col">Principal</th><th scope="col">Topic</th><th scope="col">Access</th><th scope="col">Description</th></tr></thead>
          <tbody>
            ${s.rules.length === 0 ? html`<tr><td colspan="5" class="muted">No ACL rules at this seq.</td></tr>` : this.cap(s.rules, 'rules', (r) => html`
              <tr><td>${r.id}</td><td class="mono">${r.principal}</td><td class="mono">${r.topic}</td><td>${r.access}</td><td>${longText(r.description)}</td></tr>`)}
          </tbody>
        </table></div>
      </section>
      ${s.roles.length > 0 ? html`<section aria-label="Roles at this seq">
        <div class="table-wrap"><table>
          <caption>Roles</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Granted to</th><th scope="col">Rules</th><th scope="col">Description</th></tr></thead>
          <tbody>${this.cap(s.roles, 'roles', (r) => html`<tr><td class="mono">${r.name}</td><td>${r.users.join(', ') || html`<span class="muted">nobody</span>`}</td><td>${r.rule_count}</td><td>${longText(r.description)}</td></tr>`)}</tbody>
        </table></div>
      </section>` : nothing}
      ${s.schemas.length > 0 ? html`<section aria-label="JSON schemas at this seq">
        <div class="table-wrap"><table>
          <caption>JSON schemas</caption>
          <thead><tr><th scope="col">Id</th><th scope="col">Name</th><th scope="col">Topic filter</th><th scope="col">Enabled</th></tr></thead>
          <tbody>${this.cap(s.schemas, 'schemas', (x) => html`<tr><td>${x.id}</td><td>${x.name}</td><td class="mono">${x.topic_filter}</td><td>${x.enabled ? 'yes' : 'no'}</td></tr>`)}</tbody>
        </table></div>
      </section>` : nothing}
      <section class="files" aria-label="Rendered broker files at this seq">
        <div>
          <h3>password_file <span class="muted small">(hashes redacted)</span></h3>
          <pre data-testid="state-password-file">${s.password_file}</pre>
        </div>
        <div>
          <h3>acl_file</h3>
          <pre data-testid="state-acl-file">${s.acl_file}</pre>
        </div>
      </section>`;
  }
}
customElements.define('mcm-audit-state', McmAuditState);
