/** MQTT users (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmMqttUsers extends McmScreen {
  override render() {
    return html`<h1>MQTT users</h1>`;
  }
}
customElements.define('mcm-mqtt-users', McmMqttUsers);
