/**
 * The YAML parser and the JSON error locator, loaded only when a run needs them. Together they are more than half
 * of an entry point's bytes, and most runs read JSON without errors or nothing at all (issue 15), but input parsing
 * is synchronous: so `yaml.*` and `jsonc()` throw `ParserNotLoaded` until the parser is loaded, and `withParsers`
 * (used by `checkedInputs`) loads the one a pure parse asked for and runs the parse again. Async paths that always
 * read YAML call `loadYamlParser()` first.
 */
import type * as Jsonc from 'jsonc-parser'
import type * as Yaml from 'yaml'

type ParserName = 'yaml' | 'jsonc-parser'

let yamlModule: typeof Yaml | undefined
let jsoncModule: typeof Jsonc | undefined

export class ParserNotLoaded extends Error {
  constructor(readonly parser: ParserName) {
    super(`internal error: the ${parser} parser was used before it was loaded`)
    this.name = 'ParserNotLoaded'
  }
}

export async function loadParser(parser: ParserName): Promise<void> {
  if (parser === 'yaml') yamlModule ??= await import('yaml')
  else jsoncModule ??= await import('jsonc-parser')
}

export async function loadYamlParser(): Promise<void> {
  await loadParser('yaml')
}

/** Runs `parse` (which must have no side effects), loading each parser it asks for and running it again. */
export async function withParsers<T>(parse: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return parse()
    } catch (error) {
      if (!(error instanceof ParserNotLoaded) || attempt >= 2) throw error
      await loadParser(error.parser)
    }
  }
}

function loadedYaml(): typeof Yaml {
  if (!yamlModule) throw new ParserNotLoaded('yaml')
  return yamlModule
}

/** jsonc-parser (for the line and column of a JSON syntax error). */
export function jsonc(): typeof Jsonc {
  if (!jsoncModule) throw new ParserNotLoaded('jsonc-parser')
  return jsoncModule
}

/** The functions of `yaml` this repository uses, each forwarding to the loaded parser. */
export const yaml = {
  parse: ((text: string) => loadedYaml().parse(text) as unknown) as (text: string) => unknown,
  parseDocument: ((...args: Parameters<typeof Yaml.parseDocument>) =>
    loadedYaml().parseDocument(...args)) as typeof Yaml.parseDocument,
  parseAllDocuments: ((...args: Parameters<typeof Yaml.parseAllDocuments>) =>
    loadedYaml().parseAllDocuments(...args)) as typeof Yaml.parseAllDocuments,
  isMap: ((node: unknown) => loadedYaml().isMap(node)) as typeof Yaml.isMap,
  isScalar: ((node: unknown) => loadedYaml().isScalar(node)) as typeof Yaml.isScalar,
  isSeq: ((node: unknown) => loadedYaml().isSeq(node)) as typeof Yaml.isSeq,
  visit: ((...args: Parameters<typeof Yaml.visit>) =>
    loadedYaml().visit(...args)) as typeof Yaml.visit
}
