/**
 * Styles shared by the Broker screen's parts: tables that stack into labelled cards on a narrow
 * screen (each cell names its column through `data-label`), form grids that never get wider than
 * their card, field problems, and the state badges of draft rows.
 */
import { css } from 'lit';

export const brokerStyles = css`
  section.card { margin-bottom: 1rem; min-width: 0; }
  .table-wrap { overflow-x: auto; max-width: 100%; }
  td code, td .mono { overflow-wrap: anywhere; }
  td.num { white-space: nowrap; }
  tr.reserved td { color: var(--fg-muted); }
  tr.row-problem td { border-bottom: none; padding-top: 0; }
  .form-grid { display: grid; gap: .6rem .8rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 12rem), 1fr)); align-items: start; }
  .field { display: flex; flex-direction: column; gap: .2rem; min-width: 0; }
  .form-grid input, .form-grid select, .form-grid textarea { width: 100%; }
  .form-grid .wide { grid-column: 1 / -1; }
  ol.lines { list-style: none; margin: 0 0 .4rem; padding: 0; display: flex; flex-direction: column; gap: .6rem; }
  ol.lines > li { display: grid; gap: .4rem .6rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 8rem), 1fr)); align-items: end; padding-bottom: .5rem; border-bottom: 1px dashed var(--border); }
  fieldset { border: 1px solid var(--border); border-radius: 8px; padding: .5rem .8rem; margin: .6rem 0; min-width: 0; }
  legend { font-weight: 500; padding: 0 .3rem; }
  form.editor { border-top: 1px solid var(--border); margin-top: .8rem; padding-top: .6rem; }
  .field-problem { color: var(--danger); font-size: .85em; font-weight: 400; margin: 0; overflow-wrap: anywhere; }
  label.opt { display: inline; }
  .hint { color: var(--fg-muted); font-size: .85em; font-weight: 400; }
  .badge.new { border-color: var(--ok); color: var(--ok); }
  .badge.changed { border-color: var(--warn); color: var(--warn); }
  .badge.restart { border-color: var(--warn); color: var(--warn); }
  .badge.reload { border-color: var(--ok); color: var(--ok); }
  /* Narrow screens stack these tables like every other (ui/styles/theme.ts); a row's problems join the row above. */
  @media (max-width: 700px) {
    table.stacking tr.row-problem { border: none; margin-top: -.6rem; }
  }
`;
