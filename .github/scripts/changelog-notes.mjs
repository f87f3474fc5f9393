// Prints the release notes of one version from CHANGELOG.md (Keep a Changelog: "## [X.Y.Z] - YYYY-MM-DD" sections).
//
//   node .github/scripts/changelog-notes.mjs v1.2.3 [CHANGELOG.md] > notes.md
//
// Exits 1 when the version has no section or the section is empty: a release never ships without notes.
import { readFileSync } from 'node:fs'

const HEADING = /^## \[([^\]]+)\](?:\s+-\s+(\d{4}-\d{2}-\d{2}))?\s*$/

/** The body of the version's section (without its heading), trimmed; undefined when there is none. */
export function releaseNotes(changelog, version) {
  const wanted = version.replace(/^v/, '')
  const lines = changelog.split('\n')
  const start = lines.findIndex((line) => HEADING.exec(line)?.[1] === wanted)
  if (start < 0) return undefined
  let end = lines.findIndex(
    (line, i) => i > start && (HEADING.test(line) || /^\[[^\]]+\]:\s/.test(line))
  )
  if (end < 0) end = lines.length
  const body = lines
    .slice(start + 1, end)
    .join('\n')
    .trim()
  return body || undefined
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [version, file = 'CHANGELOG.md'] = process.argv.slice(2)
  if (!version || !/^v?\d+\.\d+\.\d+$/.test(version)) {
    console.error('usage: changelog-notes.mjs vX.Y.Z [CHANGELOG.md]')
    process.exit(2)
  }
  const notes = releaseNotes(readFileSync(file, 'utf8'), version)
  if (!notes) {
    console.error(
      `${file} has no notes for ${version}: add a "## [${version.replace(/^v/, '')}] - YYYY-MM-DD" section`
    )
    process.exit(1)
  }
  console.log(notes)
}
