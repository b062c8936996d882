/**
 * Every disabled control says why (issue 16): the reason is shown next to it and tied to it by
 * aria-describedby, so a screen reader reads it with the control. `why` null: enabled, no note.
 */
import { html, nothing } from 'lit';

export const whyDisabled = (id: string, why: string | null) =>
  why === null ? nothing : html`<span class="small muted why-disabled" id=${id}>${why}</span>`;

/** The aria-describedby value for a control disabled for `why` (nothing when enabled). */
export const describedBy = (id: string, why: string | null) => (why === null ? nothing : id);
