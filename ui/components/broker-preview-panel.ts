/**
 * The Broker screen's preview panel: what the server says the draft would do — the unified diff
 * of mosquitto.conf (monospace, scrolling inside its box), each change with reload or restart,
 * "restart needed — N clients will be disconnected" — or every problem that refused it, by row
 * and field. Confirm (admins) fires `confirm-apply`; the screen sends the PUT with If-Match.
 */
import { css, html, LitElement, nothing } from 'lit';
import { changeText, diffLines, fieldLabel, restartText, type BrokerConfigDraft, type BrokerPreview, type FieldProblem } from '../data/broker-model.ts';
import { shared } from '../styles/theme.ts';
import { brokerStyles } from './broker-styles.ts';

export class BrokerPreviewPanel extends LitElement {
  static override styles = [shared, brokerStyles, css`
    pre.diff { max-height: 28rem; overflow: auto; white-space: pre; line-height: 1.4; border: 1px solid var(--border); }
    /* One block per line inside a box as wide as the longest line: added and removed lines are shaded edge to edge. */
    pre.diff .lines { display: inline-block; min-width: 100%; }
    pre.diff .lines > span { display: block; min-height: 1.4em; }
    pre.diff .add { color: var(--ok); background: var(--ok-bg); }
    pre.diff .del { color: var(--danger); background: var(--danger-bg); }
    pre.diff .hunk { color: var(--accent); }
    pre.diff .meta { color: var(--fg-muted); }
    ul.changes { list-style: none; padding: 0; margin: .4rem 0; display: flex; flex-direction: column; gap: .25rem; }
    ul.changes li { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; }
    ul.problems { margin: .3rem 0; padding-left: 1.1rem; }
    ul.problems li { overflow-wrap: anywhere; }
  `];
  static override properties = {
    preview: { attribute: false }, problems: { attribute: false }, draft: { attribute: false }, refusal: {},
    canApply: { type: Boolean }, whyNotApply: {}, busy: { type: Boolean },
  };
  declare preview: BrokerPreview | null;
  declare problems: FieldProblem[];
  declare draft: BrokerConfigDraft | null;
  declare refusal: string;
  declare canApply: boolean;
  declare whyNotApply: string | null;
  declare busy: boolean;

  constructor() {
    super();
    this.preview = null;
    this.problems = [];
    this.draft = null;
    this.refusal = '';
    this.canApply = false;
    this.whyNotApply = null;
    this.busy = false;
  }

  private renderProblems() {
    const d = this.draft;
    return html`<div class="banner error" role="alert" data-testid="broker-refused">
        <strong>The configuration was refused; nothing changed.</strong> ${this.problems.length > 1 ? `${this.problems.length} problems:` : ''}
        <ul class="problems">${this.problems.map((p) => html`<li>${p.field && d ? html`<strong>${fieldLabel(p.field, d)}</strong>: ` : nothing}${p.message}</li>`)}</ul>
        <span class="small">They are also shown next to their rows above.</span>
      </div>`;
  }

  private renderPreview(p: BrokerPreview) {
    const nothingToDo = p.changes.length === 0;
    return html`
      <p class="banner ${nothingToDo ? 'ok' : p.restartNeeded ? 'warn' : 'ok'}" role="status" data-testid="broker-restart">${restartText(p)}</p>
      ${nothingToDo ? nothing : html`
        <h3>Changes</h3>
        <ul class="changes" data-testid="broker-changes">${p.changes.map((c) => html`<li><span class="badge ${c.apply}">${c.apply}</span> <code>${changeText(c)}</code></li>`)}</ul>
        <h3>mosquitto.conf</h3>
        <pre class="diff" data-testid="broker-diff" tabindex="0" aria-label="Unified diff of mosquitto.conf"><span class="lines">${diffLines(p.diff).map((l) => html`<span class=${l.kind}>${l.text}</span>`)}</span></pre>
        <p class="hint">Previewed at change #${p.seq}. Confirming applies exactly this, unless someone changes the broker configuration first (then preview again).</p>
        <div class="actions">
          <button type="button" class="primary" ?disabled=${!this.canApply || this.busy} @click=${() => this.dispatchEvent(new CustomEvent('confirm-apply', { bubbles: true, composed: true }))}>
            ${this.busy ? 'Applying…' : p.restartNeeded ? 'Confirm: apply and restart the broker' : 'Confirm: apply'}</button>
          ${this.whyNotApply ? html`<span class="hint">Applying ${this.whyNotApply}.</span>` : nothing}
        </div>`}`;
  }

  override render() {
    if (this.problems.length > 0) return this.renderProblems();
    if (this.refusal) return html`<p class="banner error" role="alert" data-testid="broker-refusal">${this.refusal}</p>`;
    if (this.preview) return this.renderPreview(this.preview);
    return nothing;
  }
}
customElements.define('broker-preview-panel', BrokerPreviewPanel);
