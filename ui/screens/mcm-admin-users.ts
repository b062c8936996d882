/** Admin users (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmAdminUsers extends McmScreen {
  override render() {
    return html`<h1>Admin users</h1>`;
  }
}
customElements.define('mcm-admin-users', McmAdminUsers);
