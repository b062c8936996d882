/**
 * A topic (or topic filter) input with live validation: the problem appears under the input as
 * you type, the input gets aria-invalid and points at the problem with aria-describedby. A template
 * function, not an element, so the input stays in the caller's form (FormData, labels, focus).
 */
import { css, html, nothing } from 'lit';

export type TopicFieldOptions = {
  id: string;
  label: string;
  value: string;
  /** The problem with the current value (null when valid); shown only once something was typed. */
  problem: string | null;
  onInput: (value: string) => void;
  name?: string;
  placeholder?: string;
  hint?: string;
  required?: boolean;
  /** Hide the visible label text (rows of a table that have a column header); the label stays for screen readers. */
  labelHidden?: boolean;
};

export const topicFieldStyles = css`
  .field { display: flex; flex-direction: column; gap: .2rem; min-width: 12rem; flex: 1 1 14rem; }
  .field .problem { margin: 0; font-size: .85em; color: var(--danger); }
  .field .hint { margin: 0; font-size: .8em; color: var(--fg-muted); }
  .field input { font-family: ui-monospace, Menlo, Consolas, monospace; }
`;

export const topicField = (o: TopicFieldOptions) => {
  const show = o.value !== '' && o.problem !== null;
  const described = [show ? `${o.id}-problem` : '', o.hint ? `${o.id}-hint` : ''].filter(Boolean).join(' ');
  return html`<div class="field">
    <label for=${o.id} class=${o.labelHidden ? 'sr-only' : ''}>${o.label}</label>
    <input id=${o.id} name=${o.name ?? nothing} .value=${o.value} autocomplete="off" spellcheck="false" placeholder=${o.placeholder ?? nothing}
      ?required=${o.required ?? false}
      aria-invalid=${show ? 'true' : 'false'} aria-describedby=${described || nothing}
      @input=${(e: Event) => o.onInput((e.target as HTMLInputElement).value)}>
    ${show ? html`<p class="problem" id="${o.id}-problem" data-testid="topic-problem">${o.problem}</p>` : ''}
    ${o.hint ? html`<p class="hint" id="${o.id}-hint">${o.hint}</p>` : ''}
  </div>`;
};
