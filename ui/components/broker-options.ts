/**
 * The Broker screen's limits and persistence: every global directive of the catalog for the
 * broker's version, with its type and range, the broker's default, what mosquitto.conf has now,
 * and whether a change takes a reload or a restart. Edits go to the draft: `option-changed`
 * {name, value} (undefined: back to the default) and `option-problem` {name, problem} while an
 * input holds something that is not a value.
 */
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { labelCells } from '../app/label-cells.ts';
import { defaultText, globalOptions, kindText, optionFromText, optionText } from '../data/broker-forms.ts';
import { renderedValues, rowProblems, type BrokerVersion, type Directive, type FieldProblem, type OptionValue } from '../data/broker-model.ts';
import { shared } from '../styles/theme.ts';
import { brokerStyles } from './broker-styles.ts';

let instances = 0;

export class BrokerOptions extends LitElement {
  static override styles = [shared, brokerStyles];
  static override properties = {
    catalog: { attribute: false }, options: { attribute: false }, base: { attribute: false }, version: {}, rendered: { attribute: false },
    problems: { attribute: false }, editable: { type: Boolean }, local: { state: true },
  };
  declare catalog: Directive[];
  declare options: Record<string, OptionValue>;
  declare base: Record<string, OptionValue>;
  declare version: BrokerVersion;
  declare rendered: string | null;
  declare problems: FieldProblem[];
  declare editable: boolean;
  /** Inputs that hold no value (typed text the catalog refuses), by option name. */
  declare local: Record<string, string>;
  private readonly uid = `bo${++instances}`;

  constructor() {
    super();
    this.catalog = [];
    this.options = {};
    this.base = {};
    this.version = '2.0';
    this.rendered = null;
    this.problems = [];
    this.editable = false;
    this.local = {};
  }

  private emit<T>(type: string, detail: T): void {
    this.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  private input(d: Directive, text: string): void {
    const { value, problem } = optionFromText(d, text);
    const local = { ...this.local };
    if (problem) local[d.name] = problem;
    else delete local[d.name];
    this.local = local;
    this.emit('option-problem', { name: d.name, problem });
    if (!problem) this.emit('option-changed', { name: d.name, value });
  }

  private control(d: Directive, id: string, invalid: boolean) {
    const value = this.options[d.name];
    const k = d.kind;
    const described = `${id}-now ${id}-problem`;
    if (!this.editable) return html`<span id=${id} class="mono">${value === undefined ? html`<span class="muted">not set</span>` : optionText(value)}</span>`;
    if (k.type === 'bool') {
      const v = value === undefined ? '' : String(value);
      return html`<select id=${id} aria-describedby=${described} @change=${(e: Event) => this.input(d, (e.target as HTMLSelectElement).value)}>
        <option value="" ?selected=${v === ''}>default</option>
        <option value="true" ?selected=${v === 'true'}>true</option>
        <option value="false" ?selected=${v === 'false'}>false</option>
      </select>`;
    }
    if (k.type === 'int') {
      return html`<input id=${id} inputmode="numeric" autocomplete="off" .value=${optionText(value)} placeholder="default"
        aria-invalid=${invalid ? 'true' : 'false'} aria-describedby=${described}
        @change=${(e: Event) => this.input(d, (e.target as HTMLInputElement).value)}>`;
    }
    const shown = Array.isArray(value) ? value : (renderedValues(this.rendered, d.name).length > 0 ? renderedValues(this.rendered, d.name) : String(d.defaults[this.version] ?? '').split(/\s+/));
    return html`<div role="group" id=${id} aria-label=${d.name} aria-describedby=${described} class="actions">${k.values.map((x) => html`<label class="inline"><input type="checkbox" .checked=${shown.includes(x)}
      @change=${(e: Event) => this.input(d, k.values.filter((y) => (y === x ? (e.target as HTMLInputElement).checked : shown.includes(y))).join(' '))}> ${x}</label>`)}</div>`;
  }

  private renderRow(d: Directive) {
    const id = `${this.uid}-${d.name}`;
    const value = this.options[d.name];
    const changed = optionText(value) !== optionText(this.base[d.name]);
    const problem = this.local[d.name] ?? rowProblems(this.problems, `options.${d.name}`)[''] ?? null;
    const now = renderedValues(this.rendered, d.name);
    return html`<tr data-option=${d.name}>
      <td data-label="Option"><label class="opt" for=${id}><code>${d.name}</code></label> ${changed ? html`<span class="badge changed">changed</span>` : nothing}<div class="hint">${d.summary}</div></td>
      <td data-label="Type" class="small">${kindText(d)}</td>
      <td data-label="Value">${this.control(d, id, problem !== null)}
        ${problem ? html`<p class="field-problem" id="${id}-problem" role="alert">${problem}</p>` : nothing}
        ${value === undefined && now.length > 0 ? html`<p class="hint" id="${id}-now">now: ${now.join(' ')}</p>` : nothing}</td>
      <td data-label="Broker default" class="small">${defaultText(d, this.version)}</td>
      <td data-label="Takes effect"><span class="badge ${d.apply}" title=${d.apply === 'restart' ? 'the broker restarts: connected clients are disconnected' : 'the broker reloads: clients stay connected'}>${d.apply}</span></td>
      ${this.editable ? html`<td data-label="">${value !== undefined ? html`<button type="button" class="link" aria-label="Reset ${d.name} to the default" @click=${() => this.input(d, '')}>Default</button>` : nothing}</td>` : nothing}
    </tr>`;
  }

  /** Table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  override render() {
    const globals = globalOptions(this.catalog);
    if (globals.length === 0) return html`<p class="muted">The server lists no options for this broker version.</p>`;
    return html`<div class="table-wrap"><table class="stacking" data-testid="broker-options">
      <caption class="sr-only">Global options</caption>
      <thead><tr><th scope="col">Option</th><th scope="col">Type</th><th scope="col">Value</th><th scope="col">Broker default</th><th scope="col">Takes effect</th>${this.editable ? html`<th scope="col"><span class="sr-only">Reset</span></th>` : nothing}</tr></thead>
      <tbody>${globals.map((d) => this.renderRow(d))}</tbody>
    </table></div>`;
  }
}
customElements.define('broker-options', BrokerOptions);
