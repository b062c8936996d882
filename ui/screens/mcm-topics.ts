/** Topics (placeholder until the screen lands). */
import { html } from 'lit';
import { McmScreen } from '../app/mcm-screen.ts';

export class McmTopics extends McmScreen {
  override render() {
    return html`<h1>Topics</h1>`;
  }
}
customElements.define('mcm-topics', McmTopics);
