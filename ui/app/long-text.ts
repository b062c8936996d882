/**
 * A value that may be long (a description, up to 1,024 characters without a space): at most two
 * lines in a table, the whole text on hover, on keyboard focus and in the tooltip (issue 16).
 * Only a long value gets a tab stop and a tooltip: 200 short descriptions add no tab stops.
 */
import { html, nothing, type TemplateResult } from 'lit';

const LONG = 80;

export const longText = (text: string): TemplateResult => {
  const long = text.length > LONG;
  return html`<span class="clamp" tabindex=${long ? 0 : nothing} title=${long ? text : nothing}>${text}</span>`;
};
