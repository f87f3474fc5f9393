import * as core from '@actions/core'

export type SummaryRow = [label: string, value: string]

export interface SummarySection {
  title: string
  rows?: SummaryRow[]
  /** Extra tables, each with a header row. */
  tables?: { caption?: string; header: string[]; rows: string[][] }[]
  /** Free markdown appended after the tables. */
  markdown?: string
}

export function summaryEnabled(): boolean {
  return (
    (process.env['SHIPLINE_SUMMARY'] ?? '').toLowerCase() !== 'false' &&
    !!process.env['GITHUB_STEP_SUMMARY']
  )
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

/**
 * Table cells are HTML, where GitHub does not render markdown: `code` spans become <code> elements.
 * @actions/core renders an empty cell as an unclosed `<td>` (its wrap() omits the closing tag for empty content),
 * which shifts every later cell of the row: empty cells get a non-breaking space instead.
 */
export function cell(data: string): string {
  if (data === '') return '&nbsp;'
  return data.replace(/`([^`]+)`/g, '<code>$1</code>')
}

/** Appends one job-summary section; a no-op when SHIPLINE_SUMMARY=false or outside a runner. */
export async function writeSummary(section: SummarySection): Promise<void> {
  if (!summaryEnabled()) return
  const summary = core.summary.addHeading(section.title, 3)
  if (section.rows?.length) {
    summary.addTable([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true }
      ],
      ...section.rows.map(([label, value]) => [cell(label), cell(value)])
    ])
  }
  for (const table of section.tables ?? []) {
    if (table.caption) summary.addRaw(`\n**${table.caption}**\n`, true)
    summary.addTable([
      table.header.map((data) => ({ data: cell(data), header: true })),
      ...table.rows.map((row) => row.map(cell))
    ])
  }
  if (section.markdown) summary.addRaw(section.markdown, true)
  await summary.write()
}
