/**
 * Broker (issue 13, "Broker configuration as events"): mosquitto.conf as MCM manages it.
 * Listeners (MCM's own shown read-only), limits and persistence (the catalog's global options,
 * each with reload or restart), bridges, and the TLS certificates they use. Edits build a draft
 * in the page; operators preview it (the diff of mosquitto.conf, the changes, whether the broker
 * restarts and how many clients that drops, or every problem by row and field); admins confirm,
 * which sends the preview's seq as If-Match: the server applies exactly what was previewed or
 * answers 412. Then the apply status follows the change. Viewers read. In external mode MCM does
 * not write the broker's mosquitto.conf: the screen says so and changes nothing.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import '../components/access-apply-status.ts';
import '../components/broker-bridges.ts';
import '../components/broker-certificates.ts';
import '../components/broker-listeners.ts';
import '../components/broker-options.ts';
import '../components/broker-preview-panel.ts';
import { brokerStyles } from '../components/broker-styles.ts';
import {
  applyConfig, draftChanged, draftOf, loadBroker, previewConfig, putBridge, putListener, removeBridge, removeListener, reservedListeners, setOption,
  type BridgeDraft, type BrokerConfigDraft, type BrokerData, type BrokerPreview, type FieldProblem, type Listener, type OptionValue,
} from '../data/broker-model.ts';

export class McmBroker extends McmScreen {
  static override styles = [...McmScreen.styles, brokerStyles, css`
    .draft-bar { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; }
    .intro { max-width: 60rem; }
  `];

  static override properties = {
    ...McmScreen.properties,
    data: { state: true }, loadError: { state: true }, draft: { state: true },
    preview: { state: true }, problems: { state: true }, refusal: { state: true }, localProblems: { state: true },
    busy: { state: true }, applied: { state: true },
  };
  declare data: BrokerData | null;
  declare loadError: string;
  declare draft: BrokerConfigDraft | null;
  declare preview: BrokerPreview | null;
  /** The last preview's (or apply's) problems by field; cleared when the draft changes. */
  declare problems: FieldProblem[];
  declare refusal: string;
  /** Inputs holding something that is not a value (an option typed out of range), by field. */
  declare localProblems: Record<string, string>;
  declare busy: '' | 'preview' | 'apply';
  declare applied: { writeSeq: number | null; restartNeeded: boolean } | null;

  constructor() {
    super();
    this.data = null;
    this.loadError = '';
    this.draft = null;
    this.preview = null;
    this.problems = [];
    this.refusal = '';
    this.localProblems = {};
    this.busy = '';
    this.applied = null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load(true);
  }

  /** Reads the configuration and certificates; `resetDraft` starts the draft over from what was read. */
  private async load(resetDraft: boolean): Promise<void> {
    try {
      const data = await loadBroker(this.services.api);
      this.data = data;
      if (resetDraft || this.draft === null) this.draft = draftOf(data.view.config);
      this.loadError = '';
    } catch (err) {
      this.loadError = this.errorText(err);
    }
  }

  private get dirty(): boolean {
    return this.data !== null && this.draft !== null && draftChanged(this.draft, this.data.view.config);
  }

  /** Any edit makes the shown preview stale: only what was previewed is ever confirmed. */
  private edit(next: BrokerConfigDraft): void {
    this.draft = next;
    this.preview = null;
    this.problems = [];
    this.refusal = '';
    this.applied = null;
  }

  private readonly onListenerSaved = (e: CustomEvent<{ listener: Listener; replacing: string | null }>) => {
    if (this.draft) this.edit(putListener(this.draft, e.detail.listener, e.detail.replacing));
  };

  private readonly onListenerRemoved = (e: CustomEvent<{ name: string }>) => {
    if (this.draft) this.edit(removeListener(this.draft, e.detail.name));
  };

  private readonly onOptionChanged = (e: CustomEvent<{ name: string; value: OptionValue | undefined }>) => {
    if (this.draft) this.edit(setOption(this.draft, e.detail.name, e.detail.value));
  };

  private readonly onOptionProblem = (e: CustomEvent<{ name: string; problem: string | null }>) => {
    const next = { ...this.localProblems };
    if (e.detail.problem) next[`options.${e.detail.name}`] = e.detail.problem;
    else delete next[`options.${e.detail.name}`];
    this.localProblems = next;
  };

  private readonly onBridgeSaved = (e: CustomEvent<{ bridge: BridgeDraft; replacing: string | null }>) => {
    if (this.draft) this.edit(putBridge(this.draft, e.detail.bridge, e.detail.replacing));
  };

  private readonly onBridgeRemoved = (e: CustomEvent<{ name: string }>) => {
    if (this.draft) this.edit(removeBridge(this.draft, e.detail.name));
  };

  private discard(): void {
    if (this.data) this.edit(draftOf(this.data.view.config));
    this.localProblems = {};
  }

  private async focusPanel(): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('#preview-h')?.focus();
  }

  private async runPreview(): Promise<void> {
    if (!this.draft) return;
    this.busy = 'preview';
    this.applied = null;
    try {
      const out = await previewConfig(this.services.api, this.draft);
      this.preview = out.kind === 'ok' ? out.value : null;
      this.problems = out.kind === 'invalid' ? out.problems : [];
      this.refusal = out.kind === 'ok' || out.kind === 'invalid' ? '' : out.message;
    } finally {
      this.busy = '';
    }
    await this.focusPanel();
  }

  private async confirmApply(): Promise<void> {
    const preview = this.preview;
    if (!this.draft || !preview) return;
    this.busy = 'apply';
    try {
      const out = await applyConfig(this.services.api, this.draft, preview);
      if (out.kind === 'ok') {
        this.applied = { writeSeq: out.value.writeSeq, restartNeeded: out.value.restartNeeded };
        this.preview = null;
        this.problems = [];
        this.refusal = '';
        await this.load(true);
      } else if (out.kind === 'stale') {
        // Someone changed the broker configuration since the preview: show it, keep the draft.
        this.preview = null;
        this.refusal = `The broker configuration changed since this preview (${out.message}). Nothing was applied: preview again.`;
        await this.load(false);
      } else if (out.kind === 'invalid') {
        this.preview = null;
        this.problems = out.problems;
      } else {
        this.refusal = `Not applied: ${out.message}`;
      }
    } finally {
      this.busy = '';
    }
    await this.focusPanel();
  }

  private renderDraftBar() {
    const why = this.services.whyNot('operator');
    const blocked = Object.values(this.localProblems);
    return html`<div class="draft-bar">
      <span data-testid="broker-draft-state" id="broker-draft-state" class=${this.dirty ? 'warn' : 'muted'}>${this.dirty ? 'The draft has changes the broker does not have yet.' : 'The draft is the configuration the broker has.'}</span>
      <span class="spacer"></span>
      ${why ? html`<span class="hint">Previewing ${why}.</span>` : html`
        <button type="button" class="primary" ?disabled=${this.busy !== '' || blocked.length > 0} aria-describedby=${blocked.length > 0 ? 'broker-blocked' : nothing} @click=${() => this.runPreview()}>${this.busy === 'preview' ? 'Previewing…' : 'Preview changes'}</button>
        <button type="button" ?disabled=${!this.dirty || this.busy !== ''} aria-describedby=${this.dirty ? nothing : 'broker-draft-state'} @click=${() => this.discard()}>Discard the draft</button>`}
    </div>
    ${blocked.length > 0 ? html`<p class="field-problem" id="broker-blocked" role="alert">Fix the highlighted values first: ${blocked.join('; ')}.</p>` : nothing}`;
  }

  private renderManaged(data: BrokerData, draft: BrokerConfigDraft) {
    const v = data.view;
    const editable = this.services.can('operator');
    const isAdmin = this.services.can('admin');
    return html`
      ${editable ? nothing : html`<p class="banner warn" data-testid="broker-readonly">You can read the broker configuration; changing it ${this.services.whyNot('operator')}.</p>`}
      <section class="card" aria-labelledby="listeners-h">
        <h2 id="listeners-h">Listeners</h2>
        <broker-listeners .listeners=${draft.listeners} .base=${v.config.listeners} .reserved=${reservedListeners(v.reservedPorts, v.rendered)}
          .certificates=${data.certificates} .problems=${this.problems} ?editable=${editable}
          @listener-saved=${this.onListenerSaved} @listener-removed=${this.onListenerRemoved}></broker-listeners>
      </section>
      <section class="card" aria-labelledby="options-h">
        <h2 id="options-h">Limits &amp; persistence</h2>
        <p class="hint">Empty means the default applies. A <span class="badge reload">reload</span> keeps clients connected; a <span class="badge restart">restart</span> disconnects them (they reconnect on their own).</p>
        <broker-options .catalog=${v.catalog} .options=${draft.options} .base=${v.config.options} .version=${v.version} .rendered=${v.rendered}
          .problems=${this.problems} ?editable=${editable} @option-changed=${this.onOptionChanged} @option-problem=${this.onOptionProblem}></broker-options>
      </section>
      <section class="card" aria-labelledby="bridges-h">
        <h2 id="bridges-h">Bridges</h2>
        <broker-bridges .bridges=${draft.bridges} .base=${v.config.bridges} .certificates=${data.certificates} .problems=${this.problems} ?editable=${editable}
          @bridge-saved=${this.onBridgeSaved} @bridge-removed=${this.onBridgeRemoved}></broker-bridges>
        ${draft.passthrough.length > 0 ? html`<details><summary>${draft.passthrough.length} line${draft.passthrough.length === 1 ? '' : 's'} MCM keeps as they were imported</summary>
          <pre>${draft.passthrough.join('\n')}</pre></details>` : nothing}
      </section>
      <section class="card" aria-labelledby="certs-h">
        <h2 id="certs-h">Certificates</h2>
        <broker-certificates .services=${this.services} .certificates=${data.certificates} ?truncated=${data.certificatesTruncated}
          @certificates-changed=${() => { void this.load(false); }}></broker-certificates>
      </section>
      <section class="card" aria-labelledby="preview-h" data-testid="broker-preview">
        <h2 id="preview-h" tabindex="-1">Preview &amp; apply</h2>
        ${this.renderDraftBar()}
        <broker-preview-panel .preview=${this.preview} .problems=${this.problems} .draft=${draft} .refusal=${this.refusal}
          ?canApply=${isAdmin} .whyNotApply=${this.services.whyNot('admin')} ?busy=${this.busy === 'apply'} @confirm-apply=${() => this.confirmApply()}></broker-preview-panel>
        ${this.applied ? html`<div data-testid="broker-applied">
          <access-apply-status .services=${this.services} .seq=${this.applied.writeSeq}
            what=${`Broker configuration saved; the broker ${this.applied.restartNeeded ? 'restarts' : 'reloads'} to apply it`}></access-apply-status></div>` : nothing}
      </section>
      ${v.rendered ? html`<details class="card"><summary>mosquitto.conf as MCM writes it now (broker ${v.version})</summary><pre data-testid="broker-rendered">${v.rendered}</pre></details>` : nothing}`;
  }

  override render() {
    const data = this.data;
    return html`
      <h1>Broker</h1>
      <p class="muted intro">What Mosquitto listens on, its limits, the brokers it bridges to and the TLS certificates they use. Changes are collected in a draft, previewed as a diff of mosquitto.conf, and applied when an admin confirms; every change is in the audit log.</p>
      ${this.loadError ? html`<p class="banner error" role="alert">Cannot read the broker configuration: ${this.loadError}</p>` : nothing}
      ${!data || !this.draft ? (this.loadError ? nothing : html`<p class="muted" role="status">Loading…</p>`)
        : data.view.managed ? this.renderManaged(data, this.draft)
          : html`<p class="banner warn" data-testid="broker-unmanaged">MCM does not write this broker's mosquitto.conf (mosquitto mode external): its listeners, TLS, limits and bridges are set in the broker's own configuration. Run the broker supervised by MCM to manage them here.</p>
            <section class="card" aria-labelledby="certs-h"><h2 id="certs-h">Certificates</h2>
              <broker-certificates .services=${this.services} .certificates=${data.certificates} ?truncated=${data.certificatesTruncated}
                @certificates-changed=${() => { void this.load(false); }}></broker-certificates></section>`}`;
  }
}
customElements.define('mcm-broker', McmBroker);
