/** Clients (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmClients extends McmScreen {
  override render() {
    return html`<h1>Clients</h1>`;
  }
}
customElements.define('mcm-clients', McmClients);
