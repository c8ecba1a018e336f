/** Places rows and their panels on Grafana's 24-column grid, left to right, wrapping to a new line when full. */
import type { GridPos } from '@grafana/grafana-foundation-sdk/dashboard';
import type { PanelSpec, RowSpec } from './panels.js';

export const GRID_COLUMNS = 24;

export interface PlacedRow {
  row: RowSpec;
  id: number;
  gridPos: GridPos;
  panels: { spec: PanelSpec; id: number; gridPos: GridPos }[];
}

/** Assigns ids (1, 2, … in reading order, rows included) and grid positions. */
export function layoutRows(rows: readonly RowSpec[]): PlacedRow[] {
  let nextId = 1;
  let y = 0;
  return rows.map((row) => {
    const placed: PlacedRow = { row, id: nextId++, gridPos: { x: 0, y, w: GRID_COLUMNS, h: 1 }, panels: [] };
    y += 1;
    let x = 0;
    let lineHeight = 0;
    for (const spec of row.panels) {
      if (spec.width < 1 || spec.width > GRID_COLUMNS) throw new Error(`panel "${spec.title}" has width ${spec.width}`);
      if (x + spec.width > GRID_COLUMNS) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      placed.panels.push({ spec, id: nextId++, gridPos: { x, y, w: spec.width, h: spec.height } });
      x += spec.width;
      lineHeight = Math.max(lineHeight, spec.height);
    }
    y += lineHeight;
    return placed;
  });
}
