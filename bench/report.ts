import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** One row of a benchmark's table: a name and its measured figures. */
export type BenchRow = Record<string, string | number>;

export interface BenchReport {
  suite: string;
  rows: BenchRow[];
  /** Targets and how the figures were obtained, printed under the table. */
  notes?: string[];
}

/** A benchmark suite: `bench/suites/<name>.ts` exports `run` as default. */
export type BenchSuite = (args: string[]) => Promise<BenchReport>;

export function formatTable(rows: BenchRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value: string | number | undefined): string =>
    value === undefined ? '' : typeof value === 'number' ? formatNumber(value) : value;
  const widths = columns.map((column) => Math.max(column.length, ...rows.map((row) => cell(row[column]).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(columns), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map((row) => line(columns.map((c) => cell(row[c]))))].join('\n');
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.abs(value) < 10 ? 3 : 1 });
}

/** Prints the report and keeps it as JSON under bench/results/. */
export async function publish(report: BenchReport): Promise<string> {
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  await mkdir(dir, { recursive: true });
  const file = `${dir}${report.suite}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  await writeFile(file, `${JSON.stringify({ ...report, node: process.version, at: new Date().toISOString() }, null, 2)}\n`);
  console.log(`\n## ${report.suite}\n\n${formatTable(report.rows)}\n`);
  for (const note of report.notes ?? []) console.log(`- ${note}`);
  console.log(`\nresults: ${file}`);
  return file;
}
