import { afterEach, describe, expect, it } from '@jest/globals'
import {
  booleanInput,
  choiceInput,
  durationSeconds,
  exactlyOneOf,
  InputError,
  intInput,
  jsonInput,
  kvInput,
  listInput,
  optionalInput,
  requiredInput,
  yamlInput
} from '@shipline/action-kit'

const setInput = (name: string, value: string): void => {
  process.env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
}

afterEach(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('INPUT_')) delete process.env[key]
})

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error('expected an InputError')
}

describe('requiredInput / optionalInput', () => {
  it('reads the runner variable with hyphens kept, trimmed', () => {
    setInput('task-definition', '  td.json \n')
    expect(process.env['INPUT_TASK-DEFINITION']).toBeDefined()
    expect(requiredInput('task-definition')).toBe('td.json')
  })

  it('names the missing input and how to set it', () => {
    const error = inputError(() => requiredInput('cluster'))
    expect(error.input).toBe('cluster')
    expect(error.message).toBe(
      'input "cluster" is required but was empty. Set "cluster" in the step\'s with: block.'
    )
  })

  it('treats empty and blank as unset', () => {
    setInput('x', '   ')
    expect(optionalInput('x')).toBeUndefined()
    expect(optionalInput('y')).toBeUndefined()
  })
})

describe('booleanInput', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    ['false', false],
    ['False', false],
    ['FALSE', false]
  ])('%s → %s (even against the opposite default)', (text, expected) => {
    setInput('flag', text)
    expect(booleanInput('flag', !expected)).toBe(expected)
  })

  it('uses the default only when unset', () => {
    expect(booleanInput('flag', true)).toBe(true)
    expect(booleanInput('flag', false)).toBe(false)
  })

  it.each(['yes', 'no', '1', '0', 'on', 'tru'])('rejects %s', (text) => {
    setInput('flag', text)
    expect(inputError(() => booleanInput('flag', false)).message).toBe(
      `input "flag": expected true or false, got "${text}"`
    )
  })
})

describe('intInput', () => {
  it('keeps 0 as 0 instead of the default', () => {
    setInput('max-attempts', '0')
    expect(intInput('max-attempts', 5)).toBe(0)
  })

  it('returns the default when unset and parses negatives', () => {
    expect(intInput('n', 7)).toBe(7)
    setInput('n', '-3')
    expect(intInput('n', 7)).toBe(-3)
  })

  it.each([
    ['1.5', /whole number/],
    ['ten', /whole number/],
    ['99', /between 1 and 20, got 99/],
    ['0', /between 1 and 20, got 0/]
  ])('rejects %s with bounds', (text, message) => {
    setInput('n', text)
    expect(inputError(() => intInput('n', 5, { min: 1, max: 20 })).message).toMatch(message)
  })
})

describe('durationSeconds', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m5s', 125],
    ['600', 600],
    ['0s', 0]
  ])('%s → %i s', (text, seconds) => {
    setInput('wait-timeout', text)
    expect(durationSeconds('wait-timeout', '30m')).toBe(seconds)
  })

  it('applies the default when unset', () => {
    expect(durationSeconds('wait-timeout', '30m')).toBe(1800)
  })

  it.each(['ten', '10 minutes', '1d', 'm', '-5s', '1.5h'])(
    '"%s" is an InputError naming the input',
    (text) => {
      setInput('wait-timeout', text)
      const error = inputError(() => durationSeconds('wait-timeout', '30m'))
      expect(error.input).toBe('wait-timeout')
      expect(error.message).toBe(
        `input "wait-timeout": expected a duration like 90s, 10m or 1h, got "${text}"`
      )
    }
  )

  it('enforces bounds', () => {
    setInput('timeout', '2h')
    expect(inputError(() => durationSeconds('timeout', '10m', { max: 3600 })).message).toMatch(
      /7200s is out of range.*at most 3600s/
    )
  })
})

describe('listInput', () => {
  it('splits on newlines and commas, trims, drops blanks', () => {
    setInput('tags', '\n  v1 , latest\n\n   main  \n,\n')
    expect(listInput('tags')).toEqual(['v1', 'latest', 'main'])
  })

  it('can keep commas inside entries', () => {
    setInput('build-args', 'A=1,2\n\n B=x ')
    expect(listInput('build-args', { commas: false })).toEqual(['A=1,2', 'B=x'])
  })
})

describe('kvInput', () => {
  it('keeps "=" inside values and allows empty values', () => {
    setInput('environment-variables', 'A=b=c\n\nEMPTY=\n# comment\n  URL=https://x?y=1&z=2  ')
    expect(kvInput('environment-variables').map(({ key, value }) => [key, value])).toEqual([
      ['A', 'b=c'],
      ['EMPTY', ''],
      ['URL', 'https://x?y=1&z=2']
    ])
  })

  it('names the line that is not KEY=VALUE', () => {
    setInput('docker-labels', 'a=1\nnot-a-pair\n')
    expect(inputError(() => kvInput('docker-labels')).message).toBe(
      'input "docker-labels": line 2 "not-a-pair" is not KEY=VALUE. Write one KEY=VALUE pair per line.'
    )
  })

  it('rejects an empty key', () => {
    setInput('docker-labels', '=value')
    expect(inputError(() => kvInput('docker-labels')).message).toMatch(/line 1/)
  })
})

describe('jsonInput / yamlInput', () => {
  it('parses valid JSON', () => {
    setInput('containers', '{"web": "repo/web:1"}')
    expect(jsonInput('containers')).toEqual({ web: 'repo/web:1' })
  })

  it.each([
    ['{\n  "a": 1,\n  "b": 2,\n}', 4, 1],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3],
    ['{"a": tru}', 1, 7],
    ['{"a":', 1, 6]
  ])('reports line and column of a syntax error in %j', (text, line, column) => {
    setInput('containers', text)
    const error = inputError(() => jsonInput('containers'))
    expect(error.input).toBe('containers')
    expect(error.message).toContain(`invalid JSON at line ${line}, column ${column}`)
  })

  it('parses YAML and reports its errors with a position', () => {
    setInput('containers', 'web: repo/web:1\nworker:\n  image: repo/worker:1\n')
    expect(yamlInput('containers')).toEqual({
      web: 'repo/web:1',
      worker: { image: 'repo/worker:1' }
    })
    setInput('containers', 'web: [unclosed\nother: 1\n')
    expect(inputError(() => yamlInput('containers')).message).toMatch(
      /invalid YAML at line \d+, column \d+/
    )
    setInput('containers', 'a: 1\na: 2\n')
    expect(inputError(() => yamlInput('containers')).message).toMatch(/line 2, column 1/)
  })
})

describe('choiceInput / exactlyOneOf', () => {
  it('returns the canonical spelling', () => {
    setInput('severity-threshold', 'high')
    expect(choiceInput('severity-threshold', ['CRITICAL', 'HIGH'] as const, 'CRITICAL')).toBe(
      'HIGH'
    )
    setInput('severity-threshold', 'severe')
    expect(
      inputError(() => choiceInput('severity-threshold', ['CRITICAL', 'HIGH'] as const)).message
    ).toBe('input "severity-threshold": expected one of CRITICAL, HIGH, got "severe"')
  })

  it('requires exactly one source', () => {
    const names = ['task-definition', 'task-definition-family', 'task-definition-arn'] as const
    expect(inputError(() => exactlyOneOf(names)).message).toMatch(
      /^input "task-definition" is required \(or "task-definition-family" or "task-definition-arn"\)/
    )
    setInput('task-definition-family', 'api')
    expect(exactlyOneOf(names)).toBe('task-definition-family')
    setInput('task-definition', 'td.json')
    expect(inputError(() => exactlyOneOf(names)).message).toMatch(
      /"task-definition-family": conflicts with "task-definition"/
    )
  })
})
