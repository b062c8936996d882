/**
 * The operator's publish tool (POST /broker/publish, audited): topic (checked as you type with
 * the server's own rules), payload, QoS and retain. MCM publishes as its service account; the
 * message then shows up in the topic tree like any other. Below the operator role the form is
 * not offered, and the reason is shown instead.
 */
import { css, html, LitElement, nothing } from 'lit';
import type { Services } from '../app/services.ts';
import { formatBytes } from '../data/format.ts';
import { topicNameProblem } from '../data/topic-filter.ts';
import { shared } from '../styles/theme.ts';

type PublishResult = { topic: string; qos: 0 | 1 | 2; retain: boolean; bytes: number; payload_sha256: string; seq: number };

const errorText = (err: unknown): string => {
  const e = err as { message?: string; code?: string };
  return e?.message ? (e.code && !e.code.startsWith('HTTP_') ? `${e.message} (${e.code})` : e.message) : String(err);
};

export class TopicPublish extends LitElement {
  static override styles = [shared, css`
    :host { display: block; }
    form { display: flex; flex-direction: column; gap: .6rem; }
    .opts { display: flex; gap: 1rem; align-items: flex-end; flex-wrap: wrap; }
    textarea { min-height: 5rem; }
    .problem { margin: 0; }
  `];

  static override properties = {
    services: { attribute: false },
    topic: { state: true },
    payload: { state: true },
    qos: { state: true },
    retain: { state: true },
    touched: { state: true },
    busy: { state: true },
    error: { state: true },
  };
  declare services: Services;
  declare topic: string;
  declare payload: string;
  declare qos: 0 | 1 | 2;
  declare retain: boolean;
  declare touched: boolean;
  declare busy: boolean;
  declare error: string;

  constructor() {
    super();
    this.topic = '';
    this.payload = '';
    this.qos = 0;
    this.retain = false;
    this.touched = false;
    this.busy = false;
    this.error = '';
  }

  /** Prefills the topic and moves focus to the payload. */
  useTopic(topic: string): void {
    this.topic = topic;
    this.touched = true;
    void this.updateComplete.then(() => {
      this.scrollIntoView({ block: 'nearest' });
      this.renderRoot.querySelector<HTMLTextAreaElement>('textarea')?.focus();
    });
  }

  private problem(): string | null {
    return this.topic === '' ? 'a topic is required' : topicNameProblem(this.topic);
  }

  private async submit(e: Event): Promise<void> {
    e.preventDefault();
    this.touched = true;
    if (this.problem() !== null) return;
    this.busy = true;
    this.error = '';
    try {
      const r = await this.services.api.post<PublishResult>('/broker/publish', { topic: this.topic, payload: this.payload, qos: this.qos, retain: this.retain });
      this.services.notify({ kind: 'ok', text: `Published ${formatBytes(r.bytes)} to ${r.topic} (QoS ${r.qos}${r.retain ? ', retained' : ''}; recorded as seq ${r.seq}).` });
    } catch (err) {
      this.error = errorText(err);
    } finally {
      this.busy = false;
    }
  }

  override render() {
    const why = this.services.whyNot('operator');
    if (why) return html`<p class="muted">Publishing ${why}.</p>`;
    const problem = this.touched ? this.problem() : null;
    // A disabled Publish says why (issue 16): a wildcard topic can't be published to.
    const now = this.problem();
    const blocked = this.busy ? 'Publishing…' : now === null ? null : `Publish needs a valid topic: ${now}.`;
    return html`<form @submit=${(e: Event) => this.submit(e)} novalidate>
      <label>Topic
        <input name="topic" .value=${this.topic} autocomplete="off" spellcheck="false" aria-invalid=${problem ? 'true' : 'false'} aria-describedby="topic-problem"
          @input=${(e: Event) => { this.topic = (e.target as HTMLInputElement).value; this.touched = true; }}>
      </label>
      <p id="topic-problem" class="problem small ${problem ? 'error' : 'muted'}" aria-live="polite">${problem ? `Invalid topic: ${problem}.` : 'A topic name: no + or # wildcards.'}</p>
      <label>Payload
        <textarea name="payload" .value=${this.payload} spellcheck="false" @input=${(e: Event) => { this.payload = (e.target as HTMLTextAreaElement).value; }}></textarea>
      </label>
      <div class="opts">
        <label>QoS
          <select name="qos" .value=${String(this.qos)} @change=${(e: Event) => { this.qos = Number((e.target as HTMLSelectElement).value) as 0 | 1 | 2; }}>
            <option value="0">0: at most once</option>
            <option value="1">1: at least once</option>
            <option value="2">2: exactly once</option>
          </select>
        </label>
        <label class="inline"><input type="checkbox" name="retain" .checked=${this.retain} @change=${(e: Event) => { this.retain = (e.target as HTMLInputElement).checked; }}> Retain</label>
        <span class="spacer"></span>
        ${blocked ? html`<span class="small muted" id="publish-why">${blocked}</span>` : nothing}
        <button type="submit" class="primary" ?disabled=${blocked !== null} aria-describedby=${blocked ? 'publish-why' : nothing}>${this.busy ? 'Publishing…' : 'Publish'}</button>
      </div>
      ${this.error ? html`<p class="banner error" role="alert">${this.error}</p>` : nothing}
      <p class="small muted">Published as MCM's service account; recorded in the audit log (the payload's size and SHA-256, never the payload).</p>
    </form>`;
  }
}
customElements.define('topic-publish', TopicPublish);
