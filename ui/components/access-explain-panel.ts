/**
 * The two questions about access (DESIGN §5), open to viewers: "can user U with client id C read
 * or write topic T?" (POST /acls/explain: allowed or denied, the reason and the deciding rules)
 * and the reverse, "who can read or write T?" (GET /acls/who). Both run the server's evaluator,
 * the one the broker's rendered ACL agrees with.
 */
import { css, html, nothing } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';
import { concreteTopicProblem, sourceLabel, type ExplainMatch, type ExplainResult, type WhoResult } from '../data/access-model.ts';
import { topicField, topicFieldStyles } from './access-topic-field.ts';
import { describedBy, whyDisabled } from '../app/why-disabled.ts';

/** Why the submit is disabled: the topic is empty or not a topic a client can use. */
const topicWhy = (problem: string | null): string | null =>
  problem === null ? null : problem === 'enter a topic' ? 'Enter a topic first.' : `The topic is not valid: ${problem}.`;

type Action = 'read' | 'write';

export class AccessExplainPanel extends McmScreen {
  static override styles = [...McmScreen.styles, topicFieldStyles, css`
    form { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-start; }
    form > label { flex: 1 1 9rem; }
    form .submit { align-self: flex-end; }
    fieldset { border: none; padding: 0; margin: 0; display: flex; gap: .8rem; align-items: center; }
    fieldset legend { font-weight: 500; padding: 0; margin-bottom: .2rem; float: left; margin-right: .6rem; }
    .verdict { font-size: 1.15rem; font-weight: 700; }
    .verdict.allowed { color: var(--ok); }
    .verdict.denied { color: var(--danger); }
    .result { margin-top: .8rem; }
    .two { display: grid; gap: .9rem; grid-template-columns: repeat(auto-fit, minmax(min(22rem, 100%), 1fr)); }
    td.mono { word-break: break-all; }
  `];
  static override properties = {
    ...McmScreen.properties,
    users: { attribute: false },
    username: { state: true },
    clientid: { state: true },
    topic: { state: true },
    action: { state: true },
    result: { state: true },
    asked: { state: true },
    error: { state: true },
    whoTopic: { state: true },
    whoAction: { state: true },
    who: { state: true },
    whoError: { state: true },
    busy: { state: true },
  };
  declare users: string[];
  declare username: string;
  declare clientid: string;
  declare topic: string;
  declare action: Action;
  declare result: ExplainResult | null;
  declare asked: string;
  declare error: string;
  declare whoTopic: string;
  declare whoAction: Action;
  declare who: WhoResult | null;
  declare whoError: string;
  declare busy: boolean;

  constructor() {
    super();
    this.users = [];
    this.username = '';
    this.clientid = '';
    this.topic = '';
    this.action = 'write';
    this.result = null;
    this.asked = '';
    this.error = '';
    this.whoTopic = '';
    this.whoAction = 'read';
    this.who = null;
    this.whoError = '';
    this.busy = false;
  }

  private async explain(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (concreteTopicProblem(this.topic)) return;
    this.busy = true;
    this.error = '';
    const username = this.username.trim();
    try {
      this.result = await this.services.api.post<ExplainResult>('/acls/explain', {
        ...(username ? { username } : {}),
        ...(this.clientid ? { clientid: this.clientid } : {}),
        topic: this.topic,
        action: this.action,
      });
      this.asked = `${username ? `user ${username}` : 'an anonymous client'}${this.clientid ? ` (client id ${this.clientid})` : ''} ${this.action === 'read' ? 'read' : 'write'} ${this.topic}`;
    } catch (err) {
      this.result = null;
      this.error = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private async askWho(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    if (concreteTopicProblem(this.whoTopic)) return;
    this.busy = true;
    this.whoError = '';
    try {
      this.who = await this.services.api.get<WhoResult>('/acls/who', { topic: this.whoTopic, action: this.whoAction });
    } catch (err) {
      this.who = null;
      this.whoError = this.errorText(err);
    } finally {
      this.busy = false;
    }
  }

  private actionChoice(name: string, value: Action, set: (a: Action) => void) {
    return html`<fieldset><legend>Action</legend>
      ${(['read', 'write'] as const).map((a) => html`<label class="inline"><input type="radio" name=${name} value=${a} .checked=${value === a} @change=${() => set(a)}>${a === 'read' ? 'read (subscribe)' : 'write (publish)'}</label>`)}
    </fieldset>`;
  }

  private matchedTable(matched: readonly ExplainMatch[], caption: string) {
    return html`<div class="table-wrap"><table>
      <caption class="sr-only">${caption}</caption>
      <thead><tr><th scope="col">Rule</th><th scope="col">Principal</th><th scope="col">Topic filter</th><th scope="col">Access</th><th scope="col">Source</th></tr></thead>
      <tbody>${matched.map((m) => html`<tr data-rule-id=${m.id ?? nothing}>
        <td>${m.id ?? '—'}</td><td>${m.principal}</td><td class="mono">${m.topic}</td>
        <td><span class="badge ${m.access === 'deny' ? 'error' : ''}">${m.access}</span></td><td>${sourceLabel(m.source)}</td></tr>`)}</tbody>
    </table></div>`;
  }

  private renderResult() {
    const r = this.result;
    if (!r) return '';
    return html`<div class="result" data-testid="explain-result" data-allowed=${r.allowed ? 'true' : 'false'}>
      <p><span class="verdict ${r.allowed ? 'allowed' : 'denied'}">${r.allowed ? 'Allowed' : 'Denied'}</span> <span class="muted">— can ${this.asked}?</span></p>
      <p><strong>Reason:</strong> ${r.reason}</p>
      ${r.can_connect === false ? html`<p class="banner warn small">The broker would refuse this login before any rule is looked at.</p>` : ''}
      ${(r.notes ?? []).length > 0 ? html`<ul class="small">${(r.notes ?? []).map((n) => html`<li>${n}</li>`)}</ul>` : ''}
      ${r.matched.length > 0
        ? html`<h4>Deciding rules</h4>${this.matchedTable(r.matched, 'Deciding rules')}`
        : html`<p class="muted small">No rule matched: what no rule grants is denied.</p>`}
    </div>`;
  }

  private renderWho() {
    const w = this.who;
    if (!w) return '';
    const verb = w.action === 'read' ? 'read' : 'write';
    // MCM's own service account is listed (it may read and write), but not counted as one of yours.
    const yours = w.users.filter((u) => u.mcm_service_account !== true).length;
    return html`<div class="result" data-testid="who-result">
      <p><strong>${yours === 0 ? 'No user' : `${yours} user${yours === 1 ? '' : 's'}`}</strong> can ${verb} <code>${w.topic}</code>.
        Anonymous clients: <strong>${w.anonymous ? 'yes' : 'no'}</strong>.</p>
      ${w.users.length > 0 ? html`<div class="table-wrap"><table>
        <caption class="sr-only">Users who can ${verb} ${w.topic}</caption>
        <thead><tr><th scope="col">User</th><th scope="col">Deciding rules</th></tr></thead>
        <tbody>${w.users.map((u) => html`<tr><td><strong>${u.username}</strong>${u.mcm_service_account ? html` <span class="muted small">(MCM's own service account)</span>` : ''}</td>
          <td>${u.matched.map((m) => html`<div class="small"><span class="mono">${m.access} ${m.topic}</span> <span class="muted">(${m.id === undefined ? '' : `rule ${m.id}, `}${sourceLabel(m.source)})</span></div>`)}</td></tr>`)}</tbody>
      </table></div>` : ''}
      ${(w.depends_on_clientid ?? []).length > 0 ? html`<p class="banner warn small">${w.patterns_note ?? 'Some pattern rules depend on the client id.'}</p>
        ${this.matchedTable(w.depends_on_clientid ?? [], 'Pattern rules that depend on the client id')}` : ''}
    </div>`;
  }

  override render() {
    const explainProblem = concreteTopicProblem(this.topic);
    const whoProblem = concreteTopicProblem(this.whoTopic);
    return html`<div class="two">
      <section class="card" aria-labelledby="explain-h">
        <h2 id="explain-h">Explain</h2>
        <p class="muted small">Can a client read or write a topic, and which rules decide it? Answered with the broker's own rule order.</p>
        <form aria-label="Explain access" @submit=${(e: SubmitEvent) => this.explain(e)}>
          <label>Username <input list="explain-users" .value=${this.username} placeholder="empty: anonymous" autocomplete="off" spellcheck="false" @input=${(e: Event) => { this.username = (e.target as HTMLInputElement).value; }}></label>
          <datalist id="explain-users">${this.users.map((u) => html`<option value=${u}></option>`)}</datalist>
          <label>Client id <input .value=${this.clientid} placeholder="optional (for %c patterns)" autocomplete="off" spellcheck="false" @input=${(e: Event) => { this.clientid = (e.target as HTMLInputElement).value; }}></label>
          ${topicField({ id: 'explain-topic', label: 'Topic', value: this.topic, problem: explainProblem, onInput: (v) => { this.topic = v; }, required: true, placeholder: 'plant/line1/speed' })}
          ${this.actionChoice('explain-action', this.action, (a) => { this.action = a; })}
          <div class="submit"><button class="primary" type="submit" ?disabled=${this.busy || explainProblem !== null} aria-describedby=${describedBy('explain-why', topicWhy(explainProblem))}>Explain</button>
            ${whyDisabled('explain-why', topicWhy(explainProblem))}</div>
        </form>
        ${this.error ? html`<div class="banner error" role="alert">${this.error}</div>` : ''}
        <div aria-live="polite">${this.renderResult()}</div>
      </section>
      <section class="card" aria-labelledby="who-h">
        <h2 id="who-h">Who can…</h2>
        <p class="muted small">Which users (and whether anonymous clients) can read or write a topic.</p>
        <form aria-label="Who can access a topic" @submit=${(e: SubmitEvent) => this.askWho(e)}>
          ${topicField({ id: 'who-topic', label: 'Topic', value: this.whoTopic, problem: whoProblem, onInput: (v) => { this.whoTopic = v; }, required: true, placeholder: 'plant/line1/speed' })}
          ${this.actionChoice('who-action', this.whoAction, (a) => { this.whoAction = a; })}
          <div class="submit"><button class="primary" type="submit" ?disabled=${this.busy || whoProblem !== null} aria-describedby=${describedBy('who-why', topicWhy(whoProblem))}>Who can</button>
            ${whyDisabled('who-why', topicWhy(whoProblem))}</div>
        </form>
        ${this.whoError ? html`<div class="banner error" role="alert">${this.whoError}</div>` : ''}
        <div aria-live="polite">${this.renderWho()}</div>
      </section>
    </div>`;
  }
}
customElements.define('access-explain-panel', AccessExplainPanel);
