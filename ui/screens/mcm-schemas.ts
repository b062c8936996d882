/** Schemas (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmSchemas extends McmScreen {
  override render() {
    return html`<h1>Schemas</h1>`;
  }
}
customElements.define('mcm-schemas', McmSchemas);
