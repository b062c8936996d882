/** Security events (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmSecurityEvents extends McmScreen {
  override render() {
    return html`<h1>Security events</h1>`;
  }
}
customElements.define('mcm-security-events', McmSecurityEvents);
