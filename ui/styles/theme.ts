/**
 * The look shared by every element: CSS custom properties for light and dark (the OS preference,
 * or the user's choice via <html data-theme>), a visible focus ring, and the small set of
 * primitives the screens use (buttons, inputs, tables, cards, badges).
 */
import { css } from 'lit';

export const tokens = css`
  :host {
    color: var(--fg);
    font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif;
  }
`;

export const shared = css`
  :host { display: block; color: var(--fg); }
  *, *::before, *::after { box-sizing: border-box; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; font-weight: 600; }
  h2 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; font-weight: 600; }
  h3 { font-size: .95rem; margin: 1rem 0 .4rem; font-weight: 600; }
  p { margin: .4rem 0; }
  a { color: var(--accent); }
  code, pre, .mono { font-family: ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace; font-size: .9em; }
  pre { background: var(--bg-sunken); padding: .6rem .75rem; border-radius: 6px; overflow: auto; max-height: 22rem; margin: .4rem 0; }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  /* A date input's focus sits on its inner fields, where :focus-visible never matches the input. */
  input:focus-within, select:focus, textarea:focus { outline: 3px solid var(--focus); outline-offset: 2px; }
  button, .button {
    font: inherit; cursor: pointer; border-radius: 6px; padding: .4rem .8rem;
    border: 1px solid var(--border-strong); background: var(--bg-raised); color: var(--fg);
  }
  button:hover:not(:disabled) { background: var(--bg-hover); }
  button.primary { background: var(--accent); border-color: var(--accent); color: var(--on-accent); }
  button.primary:hover:not(:disabled) { filter: brightness(1.08); background: var(--accent); }
  button.danger { color: var(--danger); border-color: var(--danger); }
  button.link { border: none; background: none; color: var(--accent); padding: .1rem .2rem; }
  button:disabled { opacity: .55; cursor: not-allowed; }
  input, select, textarea {
    font: inherit; color: var(--fg); background: var(--bg-input); border: 1px solid var(--border-strong);
    border-radius: 6px; padding: .38rem .55rem; min-width: 0;
  }
  textarea { width: 100%; min-height: 8rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
  input[aria-invalid='true'], textarea[aria-invalid='true'] { border-color: var(--danger); }
  label { display: flex; flex-direction: column; gap: .2rem; font-weight: 500; }
  label.inline { flex-direction: row; align-items: center; gap: .4rem; font-weight: 400; }
  /* ui/app/mcm-screen.ts: a field at its maxlength says that more is cut. */
  label[data-limit]::after { content: attr(data-limit); color: var(--warn); font-size: .85em; font-weight: 400; }
  /* A fieldset is as wide as its widest content by default (min-width: min-content). */
  fieldset { min-width: 0; }
  form.row, .row { display: flex; flex-wrap: wrap; gap: .6rem; align-items: flex-end; }
  .stack { display: flex; flex-direction: column; gap: .6rem; }
  .grid { display: grid; gap: .9rem; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); }
  .card { background: var(--bg-raised); border: 1px solid var(--border); border-radius: 10px; padding: .9rem 1rem; }
  .card h2:first-child, .card h3:first-child { margin-top: 0; }
  .muted { color: var(--fg-muted); }
  .small { font-size: .85em; }
  .error { color: var(--danger); }
  .ok { color: var(--ok); }
  .warn { color: var(--warn); }
  .banner { border-radius: 8px; padding: .55rem .8rem; margin: .5rem 0; border: 1px solid; }
  .banner.error { background: var(--danger-bg); border-color: var(--danger); color: var(--fg); }
  .banner.ok { background: var(--ok-bg); border-color: var(--ok); color: var(--fg); }
  .banner.warn { background: var(--warn-bg); border-color: var(--warn); color: var(--fg); }
  /* A long name in a badge (a 200-character username) wraps inside it instead of widening the page. */
  .badge { display: inline-block; border-radius: 999px; padding: .05rem .5rem; font-size: .8em; border: 1px solid var(--border-strong); max-width: 100%; overflow-wrap: anywhere; }
  /* ui/app/topic-text.ts: one level of a topic name never breaks inside; an overlong one ends in "…". */
  .topic-level { display: inline-block; max-width: 100%; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
  /* ui/app/long-text.ts: two lines at most; all of it on hover or keyboard focus. */
  .clamp { display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; overflow-wrap: anywhere; }
  .clamp:hover, .clamp:focus { -webkit-line-clamp: unset; }
  /* A fixed cap, not a percentage: a table column sizes to its cells' widest content, and a
     percentage cap does not count there, so a 256-byte username would widen the whole table. */
  .ellipsis { display: inline-block; max-width: min(22rem, 60vw); vertical-align: bottom; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  .ellipsis:hover, .ellipsis:focus { white-space: normal; overflow-wrap: anywhere; }
  .badge.ok { border-color: var(--ok); color: var(--ok); }
  .badge.error { border-color: var(--danger); color: var(--danger); }
  .badge.warn { border-color: var(--warn); color: var(--warn); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--border); vertical-align: top; }
  th { font-weight: 600; color: var(--fg-muted); font-size: .85em; text-transform: uppercase; letter-spacing: .03em; }
  .table-wrap { overflow-x: auto; position: relative; }
  /* A long word (a 1,024-character description, a long topic) wraps instead of widening its column. */
  td, th, li, dd, label, legend, p, h1, h2, h3 { overflow-wrap: anywhere; }
  /*
   * Narrow screens (issue 16): a table with a header becomes one card per row, each cell named by
   * its column (data-label, set from the header by ui/app/label-cells.ts), so nothing scrolls
   * sideways. A table marked .keep-table stays a table.
   */
  @media (max-width: 700px) {
    table:has(> thead):not(.keep-table) > thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
    table:has(> thead):not(.keep-table), table:has(> thead):not(.keep-table) > tbody,
    table:has(> thead):not(.keep-table) > tbody > tr, table:has(> thead):not(.keep-table) > tbody > tr > td { display: block; width: 100%; }
    table:has(> thead):not(.keep-table) > tbody > tr { border: 1px solid var(--border); border-radius: 8px; margin: 0 0 .6rem; padding: .3rem .5rem; }
    table:has(> thead):not(.keep-table) > tbody > tr > td { border: none; padding: .2rem 0 .2rem 7.5rem; position: relative; min-height: 1.6rem; }
    table:has(> thead):not(.keep-table) > tbody > tr > td::before {
      content: attr(data-label); position: absolute; left: 0; top: .25rem; width: 7rem;
      color: var(--fg-muted); font-size: .85em; overflow-wrap: anywhere;
    }
    table:has(> thead):not(.keep-table) > tbody > tr > td:not([data-label]), table:has(> thead):not(.keep-table) > tbody > tr > td[data-label=''] { padding-left: 0; }
    table:has(> thead):not(.keep-table) > tbody > tr > td[data-label='']::before { content: none; }
  }
  /* The narrowest phones: each cell's name above its value, so a field keeps the full width. */
  @media (max-width: 480px) {
    table:has(> thead):not(.keep-table) > tbody > tr > td { padding-left: 0; }
    table:has(> thead):not(.keep-table) > tbody > tr > td::before { position: static; display: block; width: auto; }
  }
  .actions { display: flex; gap: .35rem; flex-wrap: wrap; }
  .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
  .toolbar { display: flex; flex-wrap: wrap; gap: .6rem; align-items: center; margin-bottom: .75rem; }
  .spacer { flex: 1; }
`;
