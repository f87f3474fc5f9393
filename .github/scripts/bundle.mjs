// Bundles each action (or only the ones named on the command line) with ncc into dist/<name>/.
// The committed bundles are minified and carry no source maps: a `uses:` line downloads the whole repository,
// and parse time dominates an action's start-up. SHIPLINE_SOURCE_MAPS=1 builds readable bundles with source maps
// for debugging (never commit those). ncc leaves the chunks of dynamically imported modules unminified, so they are
// minified here with terser.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { minify } from 'terser'

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
  // ncc minifies only index.js; the chunks of lazily imported modules (where the AWS SDK clients live) come out
  // unminified, with webpack's unused exports still in them.
  if (!debugBuild) {
    for (const chunk of readdirSync(`dist/${name}`).filter((f) => /^\d+\.index\.js$/.test(f))) {
      const path = `dist/${name}/${chunk}`
      const { code } = await minify(readFileSync(path, 'utf8'), {
        module: true,
        compress: true,
        mangle: true
      })
      if (code === undefined) throw new Error(`terser returned nothing for ${path}`)
      writeFileSync(path, code)
    }
  }
  console.log(`bundled dist/${name}`)
}
