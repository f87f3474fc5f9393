// Which files of dist/ each action loads, read from the bundles themselves (no build stats needed).
// Layout (.github/scripts/bundle.mjs): dist/<action>/index.js is a stub that imports dist/_shared/index.js, the
// entry of the one ncc build of every action, and runs its action; the entry maps each action name to webpack's
// `import()` of that action's entry point, which loads a group of chunks `<id>.index.js` (`__nccwpck_require__.e(id)`,
// all in one Promise.all), and the code in those chunks loads further chunks the same way on the paths that need them.
//   startup:   the stub, the shared entry and the chunk group of the action's entry point (which checks the inputs):
//              all an action loads before it imports its main.js, e.g. all it loads when it exits on an input error.
//              The action's main.js and the AWS SDK clients are further lazy imports.
//   reachable: startup plus every chunk that any chunk of it can import, transitively: an upper bound on what one
//              run of the action can load (webpack's module-level reachability; a shared chunk's lazy imports are
//              counted for every action that loads it).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

/**
 * @param {string} dist the dist/ directory
 * @returns {{ action: string, entry: string[], startup: string[], reachable: string[] }[]} paths relative to
 *   dist/; `entry` is the stub and the shared entry it imports
 */
export function distFiles(dist) {
  const actions = readdirSync(dist)
    .filter((name) => !name.startsWith('_') && existsSync(join(dist, name, 'index.js')))
    .sort()
  return actions.map((action) => {
    const stub = join(dist, action, 'index.js')
    const source = readFileSync(stub, 'utf8')
    const imports = [...source.matchAll(/\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) =>
      resolve(dirname(stub), m[1])
    )
    if (imports.length !== 1) {
      throw new Error(
        `${relative(dist, stub)} is not a stub importing one shared entry: rebuild with npm run bundle`
      )
    }
    const shared = imports[0]
    const dir = dirname(shared)
    const entrySource = readFileSync(shared, 'utf8')
    const chunk = (id) => {
      const path = join(dir, `${id}.index.js`)
      if (!existsSync(path)) throw new Error(`${relative(dist, path)} is missing`)
      return path
    }
    // `["<action>",()=>Promise.all([r.e(1),r.e(2)]).then(...)` or, for one chunk, `["<action>",()=>r.e(1).then(...)`
    // (minified; a SHIPLINE_SOURCE_MAPS=1 build has spaces and single quotes)
    const at = entrySource.search(new RegExp(`["']${action}["']\\s*,\\s*\\(\\)\\s*=>`))
    const end = at < 0 ? -1 : entrySource.indexOf('.then(', at)
    if (end < 0) {
      throw new Error(
        `${relative(dist, shared)} has no import() of ${action}: rebuild with npm run bundle`
      )
    }
    const group = chunkIds(entrySource.slice(at, end)).map(chunk)
    const reachable = new Set(group)
    const queue = [...group]
    while (queue.length) {
      const next = queue.shift()
      for (const id of chunkIds(readFileSync(next, 'utf8'))) {
        const path = join(dir, `${id}.index.js`)
        // A `.e(<digits>)` in a library's own code is not a chunk load; only existing chunk files count.
        if (existsSync(path) && !reachable.has(path)) {
          reachable.add(path)
          queue.push(path)
        }
      }
    }
    const rel = (paths) => paths.map((p) => relative(dist, p))
    const entry = rel([stub, shared])
    const startup = [...entry, ...rel(group)]
    return { action, entry, startup, reachable: [...entry, ...rel([...reachable])] }
  })
}

/** The total size of files given relative to dist/. */
export function fileBytes(dist, files) {
  return files.reduce((sum, f) => sum + statSync(join(dist, f)).size, 0)
}

function chunkIds(source) {
  // `r.e(1)`; unminified, `r.e(/* import() */ 1)`
  return [
    ...new Set([...source.matchAll(/\.e\((?:\s*\/\*[^*]*\*\/\s*)?(\d+)\)/g)].map((m) => m[1]))
  ]
}
