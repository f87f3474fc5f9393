import * as core from './workflow-commands.js'
import { jsonc, yaml } from './parsers.js'
import type { ParseError } from 'jsonc-parser'
import { readFileSync, statSync } from 'node:fs'
import { InputError } from './errors.js'

/** The raw value of an input, trimmed; empty when unset. Never read at module top level. */
export function rawInput(name: string): string {
  return core.getInput(name, { trimWhitespace: true })
}

export function requiredInput(name: string, hint?: string): string {
  const value = rawInput(name)
  if (!value)
    throw new InputError(
      name,
      'is required but was empty',
      hint ?? `Set "${name}" in the step's with: block.`
    )
  return value
}

export function optionalInput(name: string): string | undefined {
  const value = rawInput(name)
  return value === '' ? undefined : value
}

const TRUE = new Set(['true', 'True', 'TRUE'])
const FALSE = new Set(['false', 'False', 'FALSE'])

/** Strict YAML 1.2 core booleans: "false" means false, "yes" is an error. */
export function booleanInput(name: string, defaultValue: boolean): boolean {
  const value = rawInput(name)
  if (value === '') return defaultValue
  if (TRUE.has(value)) return true
  if (FALSE.has(value)) return false
  throw new InputError(name, `expected true or false, got "${value}"`)
}

export interface IntBounds {
  min?: number
  max?: number
}

/** A whole number; "0" stays 0 (never coerced to the default). */
export function intInput(name: string, defaultValue: number, bounds?: IntBounds): number
export function intInput(
  name: string,
  defaultValue: undefined,
  bounds?: IntBounds
): number | undefined
export function intInput(
  name: string,
  defaultValue: number | undefined,
  bounds: IntBounds = {}
): number | undefined {
  const value = rawInput(name)
  if (value === '') return defaultValue
  return parseBoundedInt(name, value, bounds)
}

export function parseBoundedInt(name: string, value: string, bounds: IntBounds = {}): number {
  if (!/^-?\d+$/.test(value)) throw new InputError(name, `expected a whole number, got "${value}"`)
  const n = Number(value)
  if (!Number.isSafeInteger(n)) throw new InputError(name, `"${value}" is too large`)
  const { min, max } = bounds
  if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
    const range =
      max === undefined
        ? `at least ${min}`
        : min === undefined
          ? `at most ${max}`
          : `between ${min} and ${max}`
    throw new InputError(name, `expected a number ${range}, got ${n}`)
  }
  return n
}

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/

/** Parses "90s", "10m", "1h", "1h30m" or a bare number of seconds into seconds. */
export function parseDuration(name: string, value: string): number {
  const text = value.trim()
  if (/^\d+$/.test(text)) return Number(text)
  const match = DURATION.exec(text)
  if (!text || !match || (!match[1] && !match[2] && !match[3])) {
    throw new InputError(name, `expected a duration like 90s, 10m or 1h, got "${value}"`)
  }
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0)
}

export function durationSeconds(
  name: string,
  defaultValue: string,
  bounds: IntBounds = {}
): number {
  const value = rawInput(name)
  const seconds = parseDuration(name, value === '' ? defaultValue : value)
  const { min, max } = bounds
  if ((min !== undefined && seconds < min) || (max !== undefined && seconds > max)) {
    throw new InputError(
      name,
      `duration ${seconds}s is out of range`,
      `Use a value${min !== undefined ? ` of at least ${min}s` : ''}${min !== undefined && max !== undefined ? ' and' : ''}${max !== undefined ? ` of at most ${max}s` : ''}.`
    )
  }
  return seconds
}

export interface ListOptions {
  /** Split on commas as well as newlines (default true). */
  commas?: boolean
}

/** Splits a value on newlines (and commas), trims each entry and drops empty ones. */
export function splitList(value: string, options: ListOptions = {}): string[] {
  const separator = options.commas === false ? /\r?\n/ : /\r?\n|,/
  return value
    .split(separator)
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

export function listInput(name: string, options: ListOptions = {}): string[] {
  return splitList(rawInput(name), options)
}

export interface KeyValue {
  key: string
  value: string
  line: number
}

/** Parses KEY=VALUE lines; the value keeps any further "=" (A=b=c → A, "b=c"). Blank lines and # comments are skipped. */
export function parseKeyValueLines(name: string, text: string): KeyValue[] {
  const entries: KeyValue[] = []
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0) {
      throw new InputError(
        name,
        `line ${index + 1} "${line}" is not KEY=VALUE`,
        'Write one KEY=VALUE pair per line.'
      )
    }
    entries.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1), line: index + 1 })
  })
  return entries
}

export function kvInput(name: string): KeyValue[] {
  return parseKeyValueLines(name, core.getInput(name, { trimWhitespace: false }))
}

/** Strict JSON with a precise "line L, column C" on syntax errors. */
export function parseJsonText(name: string, text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    const { parseTree, printParseErrorCode } = jsonc()
    const errors: ParseError[] = []
    parseTree(text, errors, { allowTrailingComma: false, disallowComments: true })
    const first = errors[0]
    const offset = first?.offset ?? text.length
    const { line, column } = lineColumn(text, offset)
    const what = first
      ? printParseErrorCode(first.error)
      : error instanceof Error
        ? error.message
        : 'invalid JSON'
    throw new InputError(
      name,
      `invalid JSON at line ${line}, column ${column}: ${what}`,
      'Fix the JSON syntax there.'
    )
  }
}

/** YAML 1.2 (JSON is valid YAML too) with the parser's line and column on errors. */
export function parseYamlText(name: string, text: string): unknown {
  const doc = yaml.parseDocument(text, { prettyErrors: false, uniqueKeys: true })
  const first = doc.errors[0]
  if (first) {
    const { line, column } = lineColumn(text, first.pos[0])
    const where = `line ${line}, column ${column}`
    throw new InputError(
      name,
      `invalid YAML at ${where}: ${first.message.split('\n')[0]}`,
      'Fix the YAML syntax there.'
    )
  }
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown
  } catch (error) {
    throw new InputError(
      name,
      `YAML refused: ${error instanceof Error ? error.message : String(error)} (too many alias expansions)`,
      'Write the document without deeply nested YAML aliases (&anchor / *alias).'
    )
  }
}

export function jsonInput(name: string): unknown {
  const value = rawInput(name)
  return value === '' ? undefined : parseJsonText(name, value)
}

export function yamlInput(name: string): unknown {
  const value = core.getInput(name, { trimWhitespace: false })
  return value.trim() === '' ? undefined : parseYamlText(name, value)
}

/** One of a fixed set of values, compared case-insensitively; returns the canonical spelling. */
export function choiceInput<T extends string>(
  name: string,
  choices: readonly T[],
  defaultValue: T
): T
export function choiceInput<T extends string>(
  name: string,
  choices: readonly T[],
  defaultValue?: undefined
): T | undefined
export function choiceInput<T extends string>(
  name: string,
  choices: readonly T[],
  defaultValue?: T
): T | undefined {
  const value = rawInput(name)
  if (value === '') return defaultValue
  const found = choices.find((choice) => choice.toLowerCase() === value.toLowerCase())
  if (!found) throw new InputError(name, `expected one of ${choices.join(', ')}, got "${value}"`)
  return found
}

/** Exactly one of the named inputs must be set; returns its name. */
export function exactlyOneOf<T extends string>(names: readonly T[]): T {
  const set = names.filter((name) => rawInput(name) !== '')
  if (set.length === 1) return set[0] as T
  const list = names.map((n) => `"${n}"`).join(', ')
  if (set.length === 0) {
    const others = names
      .slice(1)
      .map((n) => `"${n}"`)
      .join(' or ')
    throw new InputError(
      names[0] as string,
      `is required (or ${others})`,
      `Set exactly one of ${list}.`
    )
  }
  throw new InputError(
    set[1] as string,
    `conflicts with "${set[0]}"`,
    `Set exactly one of ${list}.`
  )
}

export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset)
  const line = before.split('\n').length
  const column = offset - before.lastIndexOf('\n')
  return { line, column }
}

/** Largest file a Shipline input may name: task definitions, policies and allowlists are far smaller. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024

/**
 * Reads a file named by an input as strict UTF-8 text (a leading BOM dropped), refusing files over 1 MiB and
 * invalid UTF-8 with an error that names the input. Missing files are the caller's to report (ENOENT propagates).
 */
export function readInputFile(name: string, path: string, shownAs = path): string {
  const size = statSync(path).size
  if (size > MAX_INPUT_FILE_BYTES) {
    throw new InputError(
      name,
      `"${shownAs}" is ${size} bytes, over the 1 MiB limit for input files`,
      'Check that the input names the intended file.'
    )
  }
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(readFileSync(path))
  } catch {
    throw new InputError(
      name,
      `"${shownAs}" is not UTF-8 text`,
      'Save the file as UTF-8 (without a legacy code page).'
    )
  }
}
