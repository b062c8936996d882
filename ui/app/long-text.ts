/**
 * A value that may be long (a description, up to 1,024 characters without a space): at most two
 * lines in a table, the whole text on hover, on keyboard focus and in the tooltip (issue 16).
 * Only a long value gets a tab stop and a tooltip: 200 short descriptions add no tab stops.
 */
import { html, nothing, type TemplateResult } from 'lit';

const LONG = 80;

/** Names (usernames, role names, client ids, URLs): one line, cut with an ellipsis past this. */
const LONG_NAME = 40;

/**
 * A name that may be long (a username is up to 256 bytes, a role name 128 characters): one line
 * ending in "…" when it does not fit, the whole name on hover, on keyboard focus and in the
 * tooltip (issue 16). Only a long name gets a tab stop.
 */
export const longName = (text: string): TemplateResult => {
  const long = text.length > LONG_NAME;
  return html`<span class="ellipsis" tabindex=${long ? 0 : nothing} title=${long ? text : nothing}>${text}</span>`;
};

export const longText = (text: string): TemplateResult => {
  const long = text.length > LONG;
  return html`<span class="clamp" tabindex=${long ? 0 : nothing} title=${long ? text : nothing}>${text}</span>`;
};
