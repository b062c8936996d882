/**
 * Access (DESIGN §5, §8): ACL rules and roles (read: auditor, write: operator), and the Explain /
 * Who-can questions (viewer). A viewer gets only the questions, with the reason the lists are
 * hidden. After a change the apply status says when the broker enforces it.
 */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { fetchAll, type AclRule, type MqttUser, type Page, type Role } from '../data/access-model.ts';
import type { AccessChange } from '../components/access-rules-panel.ts';
import '../components/access-apply-status.ts';
import '../components/access-rules-panel.ts';
import '../components/access-roles-panel.ts';
import '../components/access-explain-panel.ts';

export class McmAccess extends McmScreen {
  static override properties = {
    ...McmScreen.properties,
    rules: { state: true },
    rulesTruncated: { state: true },
    roles: { state: true },
    rolesTruncated: { state: true },
    users: { state: true },
    allowAnonymous: { state: true },
    backend: { state: true },
    loading: { state: true },
    error: { state: true },
    applySeq: { state: true },
    applyWhat: { state: true },
  };
  declare rules: AclRule[];
  declare rulesTruncated: boolean;
  declare roles: Role[];
  declare rolesTruncated: boolean;
  declare users: string[];
  declare allowAnonymous: boolean | null;
  declare backend: 'files' | 'dynsec';
  declare loading: boolean;
  declare error: string;
  declare applySeq: number | null;
  declare applyWhat: string;

  constructor() {
    super();
    this.rules = [];
    this.rulesTruncated = false;
    this.roles = [];
    this.rolesTruncated = false;
    this.users = [];
    this.allowAnonymous = null;
    this.backend = 'files';
    this.loading = true;
    this.error = '';
    this.applySeq = null;
    this.applyWhat = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    if (!this.services.can('auditor')) { this.loading = false; return; }
    const get = <T>(path: string, q: Record<string, string | number>) => this.services.api.get<Page<T>>(path, q);
    try {
      const [rules, roles, users, settings, status] = await Promise.all([
        fetchAll<AclRule>(get, '/acls'),
        fetchAll<Role>(get, '/roles'),
        fetchAll<MqttUser>(get, '/mqtt-users'),
        this.services.api.get<{ allow_anonymous?: boolean }>('/settings').catch(() => null),
        this.services.api.get<{ broker?: { backend?: string } }>('/apply-status').catch(() => null),
      ]);
      this.backend = status?.broker?.backend === 'dynsec' ? 'dynsec' : 'files';
      this.rules = rules.items;
      this.rulesTruncated = rules.truncated;
      this.roles = roles.items;
      this.rolesTruncated = roles.truncated;
      this.users = users.items.map((u) => u.username);
      this.allowAnonymous = typeof settings?.allow_anonymous === 'boolean' ? settings.allow_anonymous : null;
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.loading = false;
    }
  }

  private onChanged(e: CustomEvent<AccessChange>): void {
    this.applySeq = e.detail.seq;
    this.applyWhat = e.detail.what;
    void this.load();
  }

  private renderLists() {
    if (!this.services.can('auditor')) {
      return html`<p class="banner warn" data-testid="lists-hidden">The ACL rules and roles are hidden: reading them ${this.services.whyNot('auditor')}. You can still ask what a client may do below.</p>`;
    }
    if (this.loading) return html`<p class="muted" role="status">Loading rules and roles…</p>`;
    return html`
      <access-rules-panel .services=${this.services} .rules=${this.rules} .truncated=${this.rulesTruncated} .users=${this.users}
        .roles=${this.roles.map((r) => r.name)} .allowAnonymous=${this.allowAnonymous} .backend=${this.backend}></access-rules-panel>
      <access-roles-panel .services=${this.services} .roles=${this.roles} .truncated=${this.rolesTruncated}></access-roles-panel>`;
  }

  override render() {
    return html`
      <h1>Access</h1>
      ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
      <access-apply-status .services=${this.services} .seq=${this.applySeq} .what=${this.applyWhat}></access-apply-status>
      <div class="stack" @access-changed=${(e: CustomEvent<AccessChange>) => this.onChanged(e)}>
        ${this.renderLists()}
        <access-explain-panel .services=${this.services} .users=${this.users}></access-explain-panel>
      </div>`;
  }
}
customElements.define('mcm-access', McmAccess);
