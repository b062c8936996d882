/**
 * Names each table cell after its column (issue 16): on a narrow screen a table is shown as one
 * stacked card per row (ui/styles/theme.ts), and each cell then shows its column's name before
 * its value (`td::before { content: attr(data-label) }`). The names come from the table's own
 * header, so no screen repeats them; a cell that already has a `data-label` keeps it.
 */
export const labelCells = (root: ParentNode): void => {
  for (const table of root.querySelectorAll('table')) {
    const head = table.tHead?.rows[0];
    if (!head) continue;
    const names: string[] = [];
    for (const th of head.cells) {
      const name = (th.textContent ?? '').replace(/\s+/g, ' ').trim();
      for (let i = 0; i < th.colSpan; i++) names.push(name);
    }
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let col = 0;
        for (const cell of row.cells) {
          if (!cell.hasAttribute('data-label')) cell.setAttribute('data-label', names[col] ?? '');
          col += cell.colSpan;
        }
      }
    }
  }
};
