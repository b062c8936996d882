/**
 * A topic name that wraps only between its levels (issue 16: search results never break a topic
 * name mid-word): a break opportunity (<wbr>) after each "/". A single level wider than its box
 * still breaks inside, as a last resort, rather than widening the page.
 */
import { html, nothing, type TemplateResult } from 'lit';

export const topicText = (topic: string): TemplateResult => {
  const levels = topic.split('/');
  return html`${levels.map((level, i) => html`${level}${i < levels.length - 1 ? html`/<wbr>` : nothing}`)}`;
};
