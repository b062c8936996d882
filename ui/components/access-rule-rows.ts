/**
 * The rules of a role as editable rows (topic filter + access), each topic checked as you type.
 * `.rows` in, a `rows-changed` event (detail: the new rows) out; the owner keeps the state.
 */
import { css, html, LitElement } from 'lit';
import { ACCESS_HINTS, ACCESS_VALUES, literalSubstitutionHint, ruleRowProblems, type RuleRow } from '../data/access-model.ts';
import { shared } from '../styles/theme.ts';
import { topicField, topicFieldStyles } from './access-topic-field.ts';

let instances = 0;

export class AccessRuleRows extends LitElement {
  static override styles = [shared, topicFieldStyles, css`
    ol { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: .45rem; }
    li { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-start; }
    li select { margin-top: 1.45rem; }
    li button { margin-top: 1.45rem; }
    .dup { color: var(--danger); font-size: .85em; margin: 0; flex-basis: 100%; }
  `];
  static override properties = { rows: { attribute: false }, label: {} };
  declare rows: RuleRow[];
  /** Names the rows for assistive technology ("rules of role sensors"). */
  declare label: string;
  private readonly uid = `rr${++instances}`;

  constructor() {
    super();
    this.rows = [];
    this.label = 'rules';
  }

  private emit(rows: RuleRow[]): void {
    this.dispatchEvent(new CustomEvent<RuleRow[]>('rows-changed', { detail: rows, bubbles: true, composed: true }));
  }

  private set(i: number, patch: Partial<RuleRow>): void {
    this.emit(this.rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  }

  override render() {
    const problems = ruleRowProblems(this.rows);
    return html`<div role="group" aria-label=${this.label}>
      ${this.rows.length === 0 ? html`<p class="muted small">No rules: a role without rules grants nothing.</p>` : ''}
      <ol>${this.rows.map((r, i) => {
        const p = problems[i] ?? null;
        // A topic problem shows under the topic input; a duplicate row under the whole row.
        const topicProblem = p !== null && p !== 'the same rule appears twice' && !p.startsWith('access') ? p : null;
        const hint = literalSubstitutionHint('role', r.topic);
        return html`<li>
          ${topicField({ id: `${this.uid}-t${i}`, label: `Topic filter of rule ${i + 1}`, value: r.topic, problem: r.topic === '' ? null : topicProblem, onInput: (v) => this.set(i, { topic: v }), placeholder: 'plant/+/temperature', ...(hint ? { hint } : {}) })}
          <label class="sr-only" for="${this.uid}-a${i}">Access of rule ${i + 1}</label>
          <select id="${this.uid}-a${i}" .value=${r.access} @change=${(e: Event) => this.set(i, { access: (e.target as HTMLSelectElement).value })}>
            ${ACCESS_VALUES.map((a) => html`<option value=${a} ?selected=${a === r.access} title=${ACCESS_HINTS[a]}>${a}</option>`)}
          </select>
          <button type="button" aria-label="Remove rule ${i + 1}" @click=${() => this.emit(this.rows.filter((_, j) => j !== i))}>Remove</button>
          ${p === 'the same rule appears twice' ? html`<p class="dup">${p}</p>` : ''}
        </li>`;
      })}</ol>
      <button type="button" class="link" @click=${() => this.emit([...this.rows, { topic: '', access: 'read' }])}>+ Add a rule</button>
    </div>`;
  }
}
customElements.define('access-rule-rows', AccessRuleRows);
