import { describe, expect, it } from '@jest/globals'
import { jsonc, ParserNotLoaded, withParsers, yaml } from '@shipline/action-kit'

describe('withParsers', () => {
  it('returns a parse that needed no YAML without running it again', async () => {
    let calls = 0
    await expect(withParsers(() => ++calls)).resolves.toBe(1)
    expect(calls).toBe(1)
  })

  it('runs a parse again, once, after it found a parser not loaded', async () => {
    let calls = 0
    const parse = (): string => {
      calls += 1
      if (calls === 1) throw new ParserNotLoaded('yaml')
      return 'parsed'
    }
    await expect(withParsers(parse)).resolves.toBe('parsed')
    expect(calls).toBe(2)
  })

  it('passes any other error through without a second run', async () => {
    let calls = 0
    const parse = (): never => {
      calls += 1
      throw new Error('bad input')
    }
    await expect(withParsers(parse)).rejects.toThrow('bad input')
    expect(calls).toBe(1)
  })
})

describe('yaml (the forwarding facade)', () => {
  it('parses with the loaded parser (test/helpers/load-parsers.ts loads it)', () => {
    expect(yaml.parse('a: [1, 2]')).toEqual({ a: [1, 2] })
    const doc = yaml.parseDocument('k: v')
    expect(yaml.isMap(doc.contents)).toBe(true)
    expect(yaml.parseAllDocuments('a: 1\n---\nb: 2\n')).toHaveLength(2)
  })
})

describe('jsonc', () => {
  it('is the loaded jsonc-parser (test/helpers/load-parsers.ts loads it)', () => {
    expect(jsonc().parseTree('{"a": 1}')?.type).toBe('object')
  })
})

describe('withParsers with a parse that keeps asking', () => {
  it('gives up after loading the parsers it asked for twice', async () => {
    let calls = 0
    const parse = (): never => {
      calls += 1
      throw new ParserNotLoaded('jsonc-parser')
    }
    await expect(withParsers(parse)).rejects.toThrow(ParserNotLoaded)
    expect(calls).toBe(3)
  })
})
