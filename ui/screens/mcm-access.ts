/** Access (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmAccess extends McmScreen {
  override render() {
    return html`<h1>Access</h1>`;
  }
}
customElements.define('mcm-access', McmAccess);
