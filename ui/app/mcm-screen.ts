/**
 * The base of every screen: the shared styles and the `services` the shell hands in. Lit
 * reactive properties are declared with `static properties` and `declare` fields (no decorators:
 * with class fields defined by the language they would shadow Lit's accessors).
 */
import { LitElement, type PropertyValues } from 'lit';
import { labelCells } from './label-cells.ts';
import type { Services } from './services.ts';
import { shared } from '../styles/theme.ts';

export class McmScreen extends LitElement {
  static override styles = [shared];
  static override properties = { services: { attribute: false } };
  declare services: Services;

  constructor() {
    super();
    // A field with a maxlength cuts what is typed or pasted beyond it: say so instead of cutting
    // silently (issue 16). The note is the label's ::after (ui/styles/theme.ts), so it needs no
    // markup in each form. input events are composed: fields of nested components arrive here.
    this.addEventListener('input', (e) => {
      const field = e.composedPath()[0];
      if (!(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement) || field.maxLength <= 0) return;
      const label = field.closest('label');
      if (!label) return;
      if (field.value.length >= field.maxLength) {
        label.dataset['limit'] = `${field.maxLength.toLocaleString('en')} characters, the most allowed: anything longer is cut.`;
      } else delete label.dataset['limit'];
    });
  }

  /** Every render: table cells named after their column, for the stacked layout of narrow screens. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    labelCells(this.renderRoot);
  }

  /** The message of an error for a banner: ApiError messages are written for people. */
  protected errorText(err: unknown): string {
    const e = err as { message?: string; code?: string };
    return e?.message ? (e.code && !e.code.startsWith('HTTP_') ? `${e.message} (${e.code})` : e.message) : String(err);
  }
}
