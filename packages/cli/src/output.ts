/**
 * What a command prints on stdout, in the three forms `--output` offers. `json` is the response body as
 * Peridio's CLI prints it (the resource under its singular key, a list under its plural key with
 * `next_page`), on one line; `prn` is only the PRN(s), one a line, for `$(...)`; `table` is for people.
 */
export type OutputFormat = 'json' | 'prn' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'prn', 'table'];

type Row = Record<string, unknown>;

/** `prnField` is what `--output prn` prints: `prn`, or the PRN a record without one names (`device_prn`). */
export type Printable =
  | { kind: 'one'; key: string; record: Row; columns: string[]; prnField: string }
  /** A response that is not one resource (the update check): printed unwrapped; `prn` prints `prnField`. */
  | { kind: 'answer'; record: Row; prnField: string; columns: string[] }
  | { kind: 'list'; key: string; items: Row[]; nextPage: string | null; columns: string[]; prnField: string }
  | { kind: 'none' }
  | { kind: 'text'; text: string };

export function one(key: string, record: object, columns: string[], prnField = 'prn'): Printable {
  return { kind: 'one', key, record: record as Row, columns, prnField };
}

export function answer(record: object, prnField: string, columns: string[]): Printable {
  return { kind: 'answer', record: record as Row, prnField, columns };
}

export function list(
  key: string,
  items: object[],
  nextPage: string | null,
  columns: string[],
  prnField = 'prn',
): Printable {
  return { kind: 'list', key, items: items as Row[], nextPage, columns, prnField };
}

export function render(result: Printable, format: OutputFormat): string {
  switch (result.kind) {
    case 'none':
      return '';
    case 'text':
      return result.text;
    case 'one':
      if (format === 'prn') return `${cell(result.record[result.prnField])}\n`;
      if (format === 'table') return table([result.record], result.columns);
      return `${JSON.stringify({ [result.key]: result.record })}\n`;
    case 'answer':
      if (format === 'prn') return `${cell(result.record[result.prnField])}\n`;
      if (format === 'table') return table([result.record], result.columns);
      return `${JSON.stringify(result.record)}\n`;
    case 'list':
      if (format === 'prn') return result.items.map((item) => `${cell(item[result.prnField])}\n`).join('');
      if (format === 'table') return table(result.items, result.columns);
      return `${JSON.stringify({ [result.key]: result.items, next_page: result.nextPage })}\n`;
  }
}

function table(rows: Row[], columns: string[]): string {
  const cells = rows.map((row) => columns.map((column) => cell(row[column])));
  const header = columns.map((c) => c.toUpperCase());
  const widths = columns.map((_, i) => Math.max(header[i]!.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...cells.map(line)].map((l) => `${l}\n`).join('');
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return String(value.length);
  if (typeof value === 'object') return JSON.stringify(value);
  // JSON leaves only scalars here.
  return (value as string | number | boolean).toString().replace(/\s+/g, ' ');
}
