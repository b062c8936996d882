/** Audit (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmAudit extends McmScreen {
  override render() {
    return html`<h1>Audit</h1>`;
  }
}
customElements.define('mcm-audit', McmAudit);
