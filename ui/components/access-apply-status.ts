/**
 * After a change to users or access rules: is the broker enforcing it yet? `<access-apply-status
 * .services=… .seq=${writeSeq} .what=${'user "x" created'}>` shows "pending → applied" (or
 * failed with the reason, or "nothing to apply") for the write with that seq (its ETag). It
 * listens to the live `apply_status` messages and, while pending, also asks GET /apply-status
 * now and then (a missed live message never leaves it pending forever).
 */
import { css, html, LitElement } from 'lit';
import type { Services } from '../app/services.ts';
import { APPLY_NEWS_MS, applyProgress, parseApplyStatus, type ApplyStatus } from '../data/access-apply.ts';
import { shared } from '../styles/theme.ts';

const POLL_MS = 2000;

export class AccessApplyStatus extends LitElement {
  static override styles = [shared, css`
    .steps { font-weight: 600; margin-right: .4rem; }
    .banner { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem; }
  `];
  static override properties = {
    services: { attribute: false },
    seq: { type: Number },
    what: {},
    status: { state: true },
    sawPending: { state: true },
    error: { state: true },
    busy: { state: true },
    stale: { state: true },
  };
  declare services: Services;
  declare seq: number | null;
  declare what: string;
  declare status: ApplyStatus | null;
  declare sawPending: boolean;
  declare error: string;
  declare busy: boolean;
  /** The success was shown for APPLY_NEWS_MS: nothing to say any more. */
  declare stale: boolean;
  private off: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private newsTimer: ReturnType<typeof setTimeout> | null = null;

  constructor() {
    super();
    this.seq = null;
    this.what = '';
    this.status = null;
    this.sawPending = false;
    this.error = '';
    this.busy = false;
    this.stale = false;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.off = this.services?.live.on('apply_status', (m) => {
      const st = parseApplyStatus(m['status']);
      if (st) this.setStatus(st);
    }) ?? null;
    if (this.hasUpdated && this.seq !== null) void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.off?.();
    this.off = null;
    this.stopPolling();
    this.clearNews();
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('seq') && this.seq !== null) {
      this.status = null;
      this.sawPending = false;
      this.error = '';
      this.stale = false;
      this.clearNews();
      if (this.isConnected) void this.refresh();
    }
  }

  private setStatus(st: ApplyStatus): void {
    // An older answer (a poll that crossed a live message) never takes the status back.
    if (this.status && st.applied_seq < this.status.applied_seq) return;
    this.status = st;
    const phase = this.seq === null ? 'applied' : applyProgress(this.seq, st).phase;
    if (phase === 'pending') {
      this.sawPending = true;
      this.schedulePoll();
    } else {
      this.stopPolling();
    }
    if ((phase === 'applied' || phase === 'written' || phase === 'unchanged') && this.newsTimer === null && !this.stale) {
      this.newsTimer = setTimeout(() => { this.newsTimer = null; this.stale = true; }, APPLY_NEWS_MS);
    }
  }

  private clearNews(): void {
    if (this.newsTimer !== null) clearTimeout(this.newsTimer);
    this.newsTimer = null;
  }

  private schedulePoll(): void {
    if (this.timer !== null || !this.isConnected) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, POLL_MS);
  }

  private stopPolling(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private async refresh(): Promise<void> {
    try {
      const st = parseApplyStatus(await this.services.api.get<unknown>('/apply-status'));
      this.error = '';
      if (st) this.setStatus(st);
    } catch (err) {
      this.error = (err as Error).message;
      this.schedulePoll();
    }
  }

  private async retry(): Promise<void> {
    this.busy = true;
    try {
      const st = parseApplyStatus(await this.services.api.post<unknown>('/apply-status/retry'));
      if (st) this.setStatus(st);
    } catch (err) {
      this.error = (err as Error).message;
    } finally {
      this.busy = false;
    }
  }

  override render() {
    if (this.seq === null || this.stale) return '';
    const p = applyProgress(this.seq, this.status);
    const what = this.what ? html`<strong>${this.what}</strong>: ` : '';
    const steps = p.phase === 'applied' || p.phase === 'written'
      ? (this.sawPending ? `pending → ${p.phase}` : p.phase)
      : p.phase === 'failed' ? (this.sawPending ? 'pending → failed' : 'failed') : p.phase === 'unchanged' ? 'saved' : p.phase === 'blocked' ? 'waiting for an import' : 'pending';
    const kind = p.phase === 'failed' ? 'error' : p.phase === 'pending' || p.phase === 'blocked' ? 'warn' : 'ok';
    const canRetry = p.phase === 'failed' && this.services.can('operator');
    return html`<div class="banner ${kind}" role=${p.phase === 'failed' ? 'alert' : 'status'} data-phase=${p.phase}>
      <span>${what}<span class="steps">Apply status: ${steps}</span><span class="muted">(change #${this.seq})</span> — ${p.text}</span>
      ${canRetry ? html`<button type="button" ?disabled=${this.busy} @click=${() => this.retry()}>Retry the apply</button>` : ''}
      ${this.error ? html`<span class="error">Cannot read the apply status: ${this.error}</span>` : ''}
    </div>`;
  }
}
customElements.define('access-apply-status', AccessApplyStatus);
