/** Minimal XML writer for the awsQuery protocol (responses only). */
export function escapeXml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;')
}

/** Objects → nested elements, arrays → `<member>` lists, Dates → ISO 8601, undefined skipped. */
export function toXml(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (value instanceof Date) return value.toISOString()
  if (Array.isArray(value)) return value.map((v) => `<member>${toXml(v)}</member>`).join('')
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => `<${k}>${toXml(v)}</${k}>`)
      .join('')
  }
  return escapeXml(typeof value === 'string' ? value : JSON.stringify(value))
}

/**
 * Parses an awsQuery form body into a nested object: `A.member.1.B=x` → `{A: [{B: 'x'}]}`,
 * `Tags.member.2.Key` → `{Tags: [undefined, {Key}]}` (compacted), scalars stay strings.
 */
export function parseQueryParams(params: URLSearchParams): Record<string, unknown> {
  const root: Record<string, unknown> = {}
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue
    const parts = key.split('.')
    let node: Record<string, unknown> = root
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i] ?? ''
      const last = i === parts.length - 1
      if (part === 'member' || part === 'entry') continue
      if (last) {
        node[part] = value
        break
      }
      const next = parts[i + 1] as string
      const isList = next === 'member' || next === 'entry'
      if (isList) {
        const index = Number(parts[i + 2]) - 1
        const list = (node[part] as unknown[] | undefined) ?? []
        node[part] = list
        if (i + 3 >= parts.length) {
          list[index] = value
          break
        }
        const item = (list[index] as Record<string, unknown> | undefined) ?? {}
        list[index] = item
        node = item
        i += 2
      } else {
        const child = (node[part] as Record<string, unknown> | undefined) ?? {}
        node[part] = child
        node = child
      }
    }
  }
  return root
}
