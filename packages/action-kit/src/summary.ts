import { appendFile } from 'node:fs/promises'
import { EOL } from 'node:os'

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

type TableCell = string | { data: string; header: true }

/** One HTML element, as GitHub renders job summaries (an empty element is left unclosed, like @actions/core's). */
function wrap(tag: string, content: string): string {
  return content ? `<${tag}>${content}</${tag}>` : `<${tag}>`
}

function table(rows: TableCell[][]): string {
  const body = rows
    .map((row) =>
      wrap(
        'tr',
        row.map((c) => (typeof c === 'string' ? wrap('td', c) : wrap('th', c.data))).join('')
      )
    )
    .join('')
  return wrap('table', body) + EOL
}

/** Appends one job-summary section; a no-op when SHIPLINE_SUMMARY=false or outside a runner. */
export async function writeSummary(section: SummarySection): Promise<void> {
  if (!summaryEnabled()) return
  let text = wrap('h3', section.title) + EOL
  if (section.rows?.length) {
    text += table([
      [
        { data: 'Field', header: true },
        { data: 'Value', header: true }
      ],
      ...section.rows.map(([label, value]) => [cell(label), cell(value)])
    ])
  }
  for (const extra of section.tables ?? []) {
    if (extra.caption) text += `\n**${extra.caption}**\n` + EOL
    text += table([
      extra.header.map((data) => ({ data: cell(data), header: true as const })),
      ...extra.rows.map((row) => row.map(cell))
    ])
  }
  if (section.markdown) text += section.markdown + EOL
  await appendFile(process.env['GITHUB_STEP_SUMMARY'] as string, text, { encoding: 'utf8' })
}
