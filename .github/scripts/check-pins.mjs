// Fails on any third-party `uses:` that is not pinned to a full commit SHA with a `# vX.Y.Z` comment.
//
//   node .github/scripts/check-pins.mjs [file-or-folder ...]
//
// Default: .github/workflows, examples/workflows and every actions/*/action.yml. Allowed without a SHA: local
// actions (./…) and Docker images pinned by digest (docker://…@sha256:…). Everything else, our own
// shipline/shipline/… included, must read `owner/repo[/path]@<40 hex> # vX.Y.Z`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'

const USES = /^\s*(?:-\s+)?uses:\s*(?:'([^']*)'|"([^"]*)"|([^\s#]+))\s*(?:#\s*(.*))?$/
const SHA = /^[0-9a-f]{40}$/
const VERSION_COMMENT = /^v\d+(\.\d+){0,2}\b/

/** The problem with one `uses:` value and its trailing comment, or undefined when it is pinned. */
export function pinProblem(value, comment) {
  if (value.startsWith('./') || value.startsWith('../')) return undefined
  if (value.startsWith('docker://'))
    return /@sha256:[0-9a-f]{64}$/.test(value) ? undefined : 'Docker image not pinned by digest'
  const at = value.lastIndexOf('@')
  if (at < 0) return 'no ref: pin a full commit SHA'
  const ref = value.slice(at + 1)
  if (!SHA.test(ref)) return `ref "${ref}" is not a full commit SHA`
  if (!comment || !VERSION_COMMENT.test(comment.trim()))
    return 'the SHA needs a "# vX.Y.Z" comment naming its release'
  return undefined
}

/** Every unpinned `uses:` of a YAML text, as {line, value, problem}. */
export function findUnpinned(text) {
  const found = []
  text.split('\n').forEach((line, index) => {
    if (/^\s*#/.test(line)) return
    const match = USES.exec(line)
    if (!match) return
    const value = match[1] ?? match[2] ?? match[3] ?? ''
    const problem = pinProblem(value, match[4])
    if (problem) found.push({ line: index + 1, value, problem })
  })
  return found
}

function yamlFiles(path) {
  if (!existsSync(path)) return []
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .filter((name) => /\.ya?ml$/.test(name))
    .map((name) => join(path, name))
}

function defaultPaths() {
  const actions = existsSync('actions')
    ? readdirSync('actions')
        .map((name) => join('actions', name, 'action.yml'))
        .filter((file) => existsSync(file))
    : []
  return ['.github/workflows', 'examples/workflows', ...actions]
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const files = (args.length ? args : defaultPaths()).flatMap(yamlFiles).sort()
  let problems = 0
  for (const file of files) {
    for (const { line, value, problem } of findUnpinned(readFileSync(file, 'utf8'))) {
      problems++
      console.error(`${file}:${line}: uses: ${value}: ${problem}`)
    }
  }
  console.log(`pins: ${files.length} file(s), ${problems} unpinned uses`)
  process.exit(problems ? 1 : 0)
}
