/** Dashboard (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmDashboard extends McmScreen {
  override render() {
    return html`<h1>Dashboard</h1>`;
  }
}
customElements.define('mcm-dashboard', McmDashboard);
