/**
 * Webhooks (admin, issue 5): signed HTTP callbacks for admin changes, applies, broker liveness,
 * security events, schema violations and client connects. List, create (URL, events, description),
 * enable/disable, rotate the signing secret, delete; each webhook's deliveries (GET
 * /webhooks/{id}/deliveries: status, attempts, response code, times), newest first.
 * The signing secret exists in plaintext only in the answer to create or rotate: it is shown
 * once, with a copy button, until the admin dismisses it or leaves the page.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { confirmDialog } from '../components/mcm-confirm.ts';
import '../components/mcm-copy-button.ts';
import { formatAgo, formatTime } from '../data/format.ts';
import {
  deliveryState, eventLabel, responseText, WEBHOOK_EVENTS, webhookEventsProblem, webhookUrlProblem,
  type Delivery, type Webhook, type WebhookWithSecret,
} from '../data/webhook-model.ts';
import { longName, longText } from '../app/long-text.ts';

type Deliveries = { items: Delivery[]; next: string | null; loading: boolean; error: string };

const DELIVERY_PAGE = 25;

export class McmWebhooks extends McmScreen {
  static override styles = [...McmScreen.styles, css`    /* .sr-only is absolutely positioned: without this it escapes the scroll box and widens the page. */
    .table-wrap { position: relative; }

    fieldset { border: 1px solid var(--border); border-radius: 8px; padding: .5rem .8rem; margin: 0; }
    legend { font-weight: 500; padding: 0 .3rem; }
    .events { display: grid; gap: .25rem 1rem; grid-template-columns: repeat(auto-fit, minmax(240px, 1fr)); }
    .events label { font-weight: 400; align-items: flex-start; }
    .events input[type='checkbox'] { flex: none; width: 1rem; height: 1rem; margin: .2rem 0 0; padding: 0; }
    .events .muted { font-weight: 400; }
    section.card { margin-bottom: 1rem; }
    .row label.url { flex: 3 1 22rem; }
    .row label.desc { flex: 1 1 14rem; }
    .row label.url input, .row label.desc input { width: 100%; }
    .secret { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
    .secret code { font-size: 1rem; padding: .2rem .4rem; background: var(--bg-sunken); border-radius: 4px; overflow-wrap: anywhere; }
    td.url { overflow-wrap: anywhere; max-width: 24rem; }
    td.deliveries { background: var(--bg-sunken); padding: .6rem .8rem 1rem; }
    .tags { display: flex; flex-wrap: wrap; gap: .25rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    hooks: { state: true }, loading: { state: true }, error: { state: true }, actionError: { state: true }, busy: { state: true },
    url: { state: true }, events: { state: true }, description: { state: true }, touched: { state: true }, createError: { state: true },
    revealed: { state: true }, openId: { state: true }, deliveries: { state: true },
  };
  declare hooks: Webhook[];
  declare loading: boolean;
  declare error: string;
  declare actionError: string;
  declare busy: string;
  declare url: string;
  declare events: string[];
  declare description: string;
  declare touched: boolean;
  declare createError: string;
  /** The secret of the last create or rotate: shown once. */
  declare revealed: { id: number; url: string; secret: string; why: 'created' | 'rotated' } | null;
  declare openId: number | null;
  declare deliveries: Deliveries | null;

  constructor() {
    super();
    this.hooks = [];
    this.loading = false;
    this.error = '';
    this.actionError = '';
    this.busy = '';
    this.url = '';
    this.events = ['event_appended'];
    this.description = '';
    this.touched = false;
    this.createError = '';
    this.revealed = null;
    this.openId = null;
    this.deliveries = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  private async load(): Promise<void> {
    this.loading = true;
    try {
      this.hooks = (await this.services.api.get<{ items: Webhook[] }>('/webhooks', { limit: 1000 })).items;
      this.error = '';
    } catch (err) {
      this.error = this.errorText(err);
    } finally {
      this.loading = false;
    }
  }

  private replace(hook: Webhook): void {
    this.hooks = [...this.hooks.filter((h) => h.id !== hook.id), hook].sort((a, b) => a.id - b.id);
  }

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

  private async create(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    this.touched = true;
    if (webhookUrlProblem(this.url) || webhookEventsProblem(this.events)) return;
    this.busy = 'create';
    this.createError = '';
    try {
      const hook = await this.services.api.post<WebhookWithSecret>('/webhooks', {
        url: this.url, events: this.events, ...(this.description.trim() ? { description: this.description.trim() } : {}),
      });
      const { secret, ...view } = hook;
      this.replace(view);
      this.revealed = { id: hook.id, url: hook.url, secret, why: 'created' };
      this.url = '';
      this.description = '';
      this.events = ['event_appended'];
      this.touched = false;
      await this.focusSecret();
    } catch (err) {
      this.createError = this.errorText(err);
    } finally {
      this.busy = '';
    }
  }

  private async focusSecret(): Promise<void> {
    await this.updateComplete;
    (this.renderRoot.querySelector('#secret-h') as HTMLElement | null)?.focus();
  }

  private async toggle(hook: Webhook): Promise<void> {
    await this.act(`${hook.id}:toggle`, async () => {
      this.replace(await this.services.api.put<Webhook>(`/webhooks/${hook.id}`, { enabled: !hook.enabled }));
      this.services.notify({ kind: 'ok', text: `Webhook ${hook.id} ${hook.enabled ? 'disabled: nothing is sent to it' : 'enabled'}.` });
    });
  }

  private async rotate(hook: Webhook): Promise<void> {
    const ok = await confirmDialog({
      title: `Rotate the secret of webhook ${hook.id}?`,
      message: `A new signing secret replaces the old one at once: ${hook.url} must verify signatures with the new secret from now on.`,
      confirm: 'Rotate secret',
    });
    if (!ok) return;
    await this.act(`${hook.id}:rotate`, async () => {
      const res = await this.services.api.post<WebhookWithSecret>(`/webhooks/${hook.id}/rotate-secret`);
      const { secret, ...view } = res;
      this.replace(view);
      this.revealed = { id: res.id, url: res.url, secret, why: 'rotated' };
      await this.focusSecret();
    });
  }

  private async deleteHook(hook: Webhook): Promise<void> {
    const ok = await confirmDialog({
      title: `Delete webhook ${hook.id}?`,
      message: `Nothing more is sent to ${hook.url}; deliveries still pending are given up.`,
      confirm: 'Delete',
    });
    if (!ok) return;
    await this.act(`${hook.id}:delete`, async () => {
      await this.services.api.del(`/webhooks/${hook.id}`);
      this.hooks = this.hooks.filter((h) => h.id !== hook.id);
      if (this.openId === hook.id) { this.openId = null; this.deliveries = null; }
      if (this.revealed?.id === hook.id) this.revealed = null;
      this.services.notify({ kind: 'ok', text: `Webhook ${hook.id} deleted.` });
    });
  }

  private async openDeliveries(hook: Webhook): Promise<void> {
    if (this.openId === hook.id) { this.openId = null; this.deliveries = null; return; }
    this.openId = hook.id;
    this.deliveries = { items: [], next: null, loading: true, error: '' };
    await this.loadDeliveries(hook.id, undefined);
  }

  private async loadDeliveries(id: number, cursor: string | undefined): Promise<void> {
    const before = cursor && this.deliveries ? this.deliveries.items : [];
    this.deliveries = { items: before, next: this.deliveries?.next ?? null, loading: true, error: '' };
    try {
      const page = await this.services.api.get<{ items: Delivery[]; next?: string | null }>(`/webhooks/${id}/deliveries`, { limit: DELIVERY_PAGE, cursor });
      if (this.openId !== id) return;
      this.deliveries = { items: [...before, ...page.items], next: page.next ?? null, loading: false, error: '' };
    } catch (err) {
      if (this.openId === id) this.deliveries = { items: before, next: null, loading: false, error: this.errorText(err) };
    }
  }

  private toggleEvent(name: string, on: boolean): void {
    this.events = on ? [...new Set([...this.events, name])] : this.events.filter((e) => e !== name);
  }

  private renderSecret() {
    const r = this.revealed;
    if (!r) return nothing;
    return html`
      <section class="card banner ok" aria-labelledby="secret-h" data-testid="webhook-secret">
        <h2 id="secret-h" tabindex="-1">Signing secret of webhook ${r.id} (${r.why}) — shown once</h2>
        <p>Store it now in the receiver at <span class="mono">${r.url}</span>: MCM keeps it only encrypted and will never show it again. Rotate the secret if it is lost.</p>
        <p class="secret"><code data-testid="secret-value">${r.secret}</code><mcm-copy-button .value=${r.secret} label="Copy secret"></mcm-copy-button></p>
        <p class="small muted">Receivers check <code>X-MCM-Signature: t=&lt;unix&gt;,v1=&lt;hex HMAC-SHA256 of "&lt;t&gt;.&lt;body&gt;"&gt;</code> with this secret.</p>
        <button type="button" @click=${() => { this.revealed = null; }}>I have stored it</button>
      </section>`;
  }

  private renderCreate() {
    const uProblem = this.touched || this.url ? webhookUrlProblem(this.url) : null;
    const eProblem = this.touched ? webhookEventsProblem(this.events) : null;
    return html`
      <section class="card" aria-labelledby="create-h">
        <h2 id="create-h">Add a webhook</h2>
        ${this.createError ? html`<p class="banner error" role="alert">${this.createError}</p>` : nothing}
        <form class="stack" @submit=${(e: SubmitEvent) => this.create(e)} novalidate>
          <div class="row">
            <label class="url">URL
              <input name="url" type="url" inputmode="url" placeholder="https://hooks.example.com/mcm" .value=${this.url}
                aria-invalid=${uProblem ? 'true' : 'false'} aria-describedby="url-help" @input=${(e: InputEvent) => { this.url = (e.target as HTMLInputElement).value; }}>
            </label>
            <label class="desc">Description
              <input name="description" .value=${this.description} @input=${(e: InputEvent) => { this.description = (e.target as HTMLInputElement).value; }}>
            </label>
          </div>
          <p id="url-help" class="small ${uProblem ? 'error' : 'muted'}">${uProblem ?? 'http or https, no credentials. MCM refuses hosts that resolve to private or loopback addresses unless webhooks.allow_private is set.'}</p>
          <fieldset aria-describedby="events-help">
            <legend>Events to send</legend>
            <div class="events">${WEBHOOK_EVENTS.map((ev) => html`
              <label class="inline"><input type="checkbox" name="events" value=${ev.name} .checked=${this.events.includes(ev.name)}
                @change=${(e: Event) => this.toggleEvent(ev.name, (e.target as HTMLInputElement).checked)}>
                <span>${ev.label} <code class="small">${ev.name}</code><br><span class="muted small">${ev.description}</span></span></label>`)}
            </div>
          </fieldset>
          <p id="events-help" class="small ${eProblem ? 'error' : 'muted'}">${eProblem ?? 'Each delivery is a signed POST with the JSON body {id, type, at, data}; failures are retried with backoff.'}</p>
          <div><button type="submit" class="primary" ?disabled=${this.busy === 'create'}>Add webhook</button></div>
        </form>
      </section>`;
  }

  private renderDeliveries(hook: Webhook) {
    const d = this.deliveries;
    if (!d) return nothing;
    return html`
      <div class="toolbar">
        <h3>Deliveries to webhook ${hook.id}</h3>
        <span class="spacer"></span>
        <button type="button" @click=${() => this.loadDeliveries(hook.id, undefined)} ?disabled=${d.loading}>Refresh deliveries</button>
      </div>
      ${d.error ? html`<p class="banner error" role="alert">${d.error}</p>` : nothing}
      ${d.items.length === 0
        ? html`<p class="muted" role="status">${d.loading ? 'Loading deliveries…' : `Nothing sent yet: a delivery is queued when one of its events (${hook.events.map(eventLabel).join(', ')}) happens${hook.enabled ? '' : ' while the webhook is enabled'}.`}</p>`
        : html`<div class="table-wrap"><table data-testid="deliveries-table">
          <caption class="sr-only">Deliveries to webhook ${hook.id}, newest first</caption>
          <thead><tr><th scope="col">Id</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Response</th><th scope="col">Queued (UTC)</th><th scope="col">Delivered / next try</th></tr></thead>
          <tbody>${d.items.map((x) => {
            const st = deliveryState(x);
            return html`<tr data-delivery=${x.id}>
              <td>${x.id}</td>
              <td><code>${x.event_type}</code></td>
              <td><span class="badge ${st.tone}">${st.text}</span></td>
              <td>${x.attempts}</td>
              <td class="mono">${responseText(x)}</td>
              <td>${formatTime(x.created_at)}</td>
              <td>${x.delivered_at ? formatTime(x.delivered_at) : x.next_attempt_at ? `next ${formatAgo(x.next_attempt_at, this.services.now())}` : '—'}</td>
            </tr>`;
          })}</tbody>
        </table></div>`}
      ${d.next ? html`<button type="button" @click=${() => this.loadDeliveries(hook.id, d.next ?? undefined)} ?disabled=${d.loading}>Load older deliveries</button>` : nothing}`;
  }

  private renderList() {
    if (this.hooks.length === 0) {
      return html`<p class="muted">${this.loading ? 'Loading…' : this.error ? '' : 'No webhooks yet. Add one above to have MCM call your endpoint when something happens.'}</p>`;
    }
    return html`<div class="table-wrap"><table data-testid="webhooks-table">
      <caption class="sr-only">Webhooks</caption>
      <thead><tr><th scope="col">Id</th><th scope="col">URL</th><th scope="col">Events</th><th scope="col">State</th><th scope="col">Description</th><th scope="col">Created (UTC)</th><th scope="col">Actions</th></tr></thead>
      <tbody>${this.hooks.map((h) => {
        const busy = this.busy.startsWith(`${h.id}:`);
        const open = this.openId === h.id;
        return html`
          <tr data-webhook=${h.id}>
            <td>${h.id}</td>
            <td class="url mono">${longName(h.url)}</td>
            <td><div class="tags">${h.events.map((e) => html`<span class="badge" title=${eventLabel(e)}>${e}</span>`)}</div></td>
            <td>${h.enabled ? html`<span class="badge ok">enabled</span>` : html`<span class="badge warn">disabled</span>`}</td>
            <td>${longText(h.description)}</td>
            <td>${formatTime(h.created_at)}</td>
            <td><div class="actions">
              <button type="button" aria-expanded=${open ? 'true' : 'false'} aria-controls="deliveries-${h.id}" @click=${() => this.openDeliveries(h)}>${open ? 'Hide deliveries' : 'Deliveries'}<span class="sr-only"> of webhook ${h.id}</span></button>
              <button type="button" ?disabled=${busy} @click=${() => this.toggle(h)}>${h.enabled ? 'Disable' : 'Enable'}<span class="sr-only"> webhook ${h.id}</span></button>
              <button type="button" ?disabled=${busy} @click=${() => this.rotate(h)}>Rotate secret<span class="sr-only"> of webhook ${h.id}</span></button>
              <button type="button" class="danger" ?disabled=${busy} @click=${() => this.deleteHook(h)}>Delete<span class="sr-only"> webhook ${h.id}</span></button>
            </div></td>
          </tr>
          ${open ? html`<tr id="deliveries-${h.id}"><td class="deliveries" colspan="7">${this.renderDeliveries(h)}</td></tr>` : nothing}`;
      })}</tbody>
    </table></div>`;
  }

  override render() {
    return html`
      <h1>Webhooks</h1>
      ${this.renderSecret()}
      ${this.renderCreate()}
      <section class="card" aria-labelledby="list-h">
        <div class="toolbar">
          <h2 id="list-h">Webhooks</h2>
          <span class="spacer"></span>
          <button type="button" @click=${() => this.load()} ?disabled=${this.loading}>Reload</button>
        </div>
        ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
        ${this.actionError ? html`<p class="banner error" role="alert">${this.actionError}</p>` : nothing}
        ${this.renderList()}
      </section>`;
  }
}
customElements.define('mcm-webhooks', McmWebhooks);
