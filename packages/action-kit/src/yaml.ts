/**
 * The YAML parser, loaded only when a run has YAML to read. It is a third of an entry point's bytes, and most runs
 * read JSON or nothing (issue 15), but input parsing is synchronous: so `yaml.*` throws `YamlParserNotLoaded` until
 * `loadYamlParser()` has run, and `withYamlParser` (used by `checkedInputs`) loads it and runs a pure parse again
 * when the first attempt needed it. Async paths that always read YAML call `loadYamlParser()` first.
 */
import type * as Yaml from 'yaml'

let parser: typeof Yaml | undefined

export class YamlParserNotLoaded extends Error {
  constructor() {
    super('internal error: the YAML parser was used before loadYamlParser()')
    this.name = 'YamlParserNotLoaded'
  }
}

export async function loadYamlParser(): Promise<void> {
  parser ??= await import('yaml')
}

function loaded(): typeof Yaml {
  if (!parser) throw new YamlParserNotLoaded()
  return parser
}

/** Runs `parse` (which must have no side effects); if it needed the YAML parser, loads it and runs it again. */
export async function withYamlParser<T>(parse: () => T): Promise<T> {
  try {
    return parse()
  } catch (error) {
    if (!(error instanceof YamlParserNotLoaded)) throw error
    await loadYamlParser()
    return parse()
  }
}

/** The functions of `yaml` this repository uses, each forwarding to the loaded parser. */
export const yaml = {
  parse: ((text: string) => loaded().parse(text) as unknown) as (text: string) => unknown,
  parseDocument: ((...args: Parameters<typeof Yaml.parseDocument>) =>
    loaded().parseDocument(...args)) as typeof Yaml.parseDocument,
  parseAllDocuments: ((...args: Parameters<typeof Yaml.parseAllDocuments>) =>
    loaded().parseAllDocuments(...args)) as typeof Yaml.parseAllDocuments,
  isMap: ((node: unknown) => loaded().isMap(node)) as typeof Yaml.isMap,
  isScalar: ((node: unknown) => loaded().isScalar(node)) as typeof Yaml.isScalar,
  isSeq: ((node: unknown) => loaded().isSeq(node)) as typeof Yaml.isSeq,
  visit: ((...args: Parameters<typeof Yaml.visit>) => loaded().visit(...args)) as typeof Yaml.visit
}
