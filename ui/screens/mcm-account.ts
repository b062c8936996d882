/** Account (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmAccount extends McmScreen {
  override render() {
    return html`<h1>Account</h1>`;
  }
}
customElements.define('mcm-account', McmAccount);
