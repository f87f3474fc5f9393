// Bundles each action (or only the ones named on the command line) with ncc into dist/<name>/.
// The committed bundles are minified and carry no source maps: a `uses:` line downloads the whole repository,
// and parse time dominates an action's start-up. SHIPLINE_SOURCE_MAPS=1 builds readable bundles with source maps
// for debugging (never commit those).
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, rmSync } from 'node:fs'

const all = readdirSync('actions')
  .filter((name) => existsSync(`actions/${name}/action.yml`))
  .sort()
const requested = process.argv.slice(2)
for (const name of requested) {
  if (!all.includes(name)) throw new Error(`unknown action "${name}"; known: ${all.join(', ')}`)
}
const debugBuild = process.env['SHIPLINE_SOURCE_MAPS'] === '1'
const names = requested.length ? requested : all
if (!requested.length) rmSync('dist', { recursive: true, force: true })
for (const name of names) {
  rmSync(`dist/${name}`, { recursive: true, force: true })
  execFileSync(
    'npx',
    [
      'ncc',
      'build',
      `actions/${name}/src/index.ts`,
      '-o',
      `dist/${name}`,
      ...(debugBuild ? ['--source-map'] : ['--minify']),
      '--license',
      'licenses.txt',
      '--no-cache',
      '--quiet'
    ],
    { stdio: 'inherit' }
  )
  console.log(`bundled dist/${name}`)
}
