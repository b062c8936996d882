/**
 * <mcm-adoption-banner .services>: shown above every screen while the apply state is
 * `adoption_required` (issue 11): the broker files MCM found and did not write, and the way out
 * (admins: a link to the Import screen; others: who can do it). Follows GET /apply-status on
 * sign-in, the live `snapshot` and `apply_status` messages, an `mcm-apply-status` event from the
 * Import screen, and polls every 10 s while the banner is up (a missed live message never
 * leaves it up after the import).
 */
import { css, html, LitElement, nothing } from 'lit';
import type { Services } from '../app/services.ts';
import { adoptionRequired, parseApplyStatus, type ApplyStatus } from '../data/access-apply.ts';
import { adoptionBanner } from '../data/import-model.ts';
import { shared } from '../styles/theme.ts';

const POLL_MS = 10_000;

export class McmAdoptionBanner extends LitElement {
  static override styles = [shared, css`
    :host { display: block; }
    .banner { margin: 0 0 1rem; }
    ul { margin: .3rem 0; padding-left: 1.2rem; }
    code { overflow-wrap: anywhere; }
  `];
  static override properties = { services: { attribute: false }, path: {}, status: { state: true } };
  declare services: Services;
  declare path: string;
  declare status: ApplyStatus | null;
  private offs: (() => void)[] = [];
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor() {
    super();
    this.path = '/';
    this.status = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    const live = this.services.live;
    this.offs.push(live.on('apply_status', (m) => this.take(m['status'])));
    this.offs.push(live.on('snapshot', (m) => {
      const st = m['status'] as { apply?: unknown } | undefined;
      if (st && typeof st === 'object') this.take(st.apply);
    }));
    window.addEventListener('mcm-apply-status', this.onEvent);
    this.offs.push(() => window.removeEventListener('mcm-apply-status', this.onEvent));
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    for (const off of this.offs) off();
    this.offs = [];
    this.setPolling(false);
  }

  private readonly onEvent = (e: Event): void => this.take((e as CustomEvent<unknown>).detail);

  private take(raw: unknown): void {
    const st = parseApplyStatus(raw);
    if (!st) return;
    this.status = st;
    this.setPolling(st.state === 'adoption_required');
  }

  private setPolling(on: boolean): void {
    if (on && this.timer === null) this.timer = setInterval(() => void this.refresh(), POLL_MS);
    if (!on && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private async refresh(): Promise<void> {
    try {
      this.take(await this.services.api.get<unknown>('/apply-status'));
    } catch {
      // The screens show their own errors; the banner keeps what it knew.
    }
  }

  private go(e: MouseEvent): void {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    this.services.navigate('/import');
  }

  override render() {
    const b = adoptionBanner(adoptionRequired(this.status), this.services.can('admin'));
    if (!b) return nothing;
    const onImport = this.path === '/import';
    return html`<div class="banner warn" role="status" data-testid="adoption-banner">
      <strong>Adoption required.</strong> ${b.text}
      <ul>${b.files.map((f) => html`<li>${f.label}${f.path ? html`: <code>${f.path}</code>` : nothing}</li>`)}</ul>
      ${b.action === 'import'
        ? (onImport ? html`<span>Plan the import below, check it, then apply it.</span>` : html`<a href="/import" @click=${(e: MouseEvent) => this.go(e)}>Review and import these files</a>`)
        : html`<span>An admin imports them on the Import screen or with <code>mcm import</code> (you are ${this.services.role()}).</span>`}
    </div>`;
  }
}
customElements.define('mcm-adoption-banner', McmAdoptionBanner);
