/**
 * A topic name that wraps only between its levels (issue 16: search results never break a topic
 * name mid-word). Each level (with its "/") is one unbreakable piece — a hyphen inside a level
 * is no break opportunity — and a <wbr> between pieces is. A single level wider than its box is
 * cut with an ellipsis (`.topic-level` in ui/styles/theme.ts) rather than widen the page; the
 * caller puts the whole name in a title.
 */
import { html, type TemplateResult } from 'lit';

export const topicText = (topic: string): TemplateResult => {
  const levels = topic.split('/');
  return html`${levels.map((level, i) => html`<span class="topic-level">${level}${i < levels.length - 1 ? '/' : ''}</span>${i < levels.length - 1 ? html`<wbr>` : ''}`)}`;
};
