/** Webhooks (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmWebhooks extends McmScreen {
  override render() {
    return html`<h1>Webhooks</h1>`;
  }
}
customElements.define('mcm-webhooks', McmWebhooks);
