/**
 * What a command prints on stdout, in the three forms `--output` offers. `json` is the response body as
 * Peridio's CLI prints it (the resource under its singular key, a list under its plural key with
 * `next_page`), on one line; `prn` is only the PRN(s), one a line, for `$(...)`; `table` is for people.
 */
export type OutputFormat = 'json' | 'prn' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'prn', 'table'];

type Row = Record<string, unknown> & { prn?: string };

export type Printable =
  | { kind: 'one'; key: string; record: Row; columns: string[] }
  | { kind: 'list'; key: string; items: Row[]; nextPage: string | null; columns: string[] }
  | { kind: 'none' }
  | { kind: 'text'; text: string };

export function one(key: string, record: object, columns: string[]): Printable {
  return { kind: 'one', key, record: record as Row, columns };
}

export function list(key: string, items: object[], nextPage: string | null, columns: string[]): Printable {
  return { kind: 'list', key, items: items as Row[], nextPage, columns };
}

export function render(result: Printable, format: OutputFormat): string {
  switch (result.kind) {
    case 'none':
      return '';
    case 'text':
      return result.text;
    case 'one':
      if (format === 'prn') return `${result.record.prn ?? ''}\n`;
      if (format === 'table') return table([result.record], result.columns);
      return `${JSON.stringify({ [result.key]: result.record })}\n`;
    case 'list':
      if (format === 'prn') return result.items.map((item) => `${item.prn ?? ''}\n`).join('');
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
