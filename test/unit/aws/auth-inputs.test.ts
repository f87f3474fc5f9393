import { readFileSync } from 'node:fs'
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { InputError } from '@shipline/action-kit'
import {
  AWS_AUTH_DEFAULTS,
  AWS_AUTH_INPUT_NAMES,
  defaultSessionName,
  getAwsAuthInputs,
  parseRoleArn,
  resolveRegion
} from '@shipline/aws'
import { parse } from 'yaml'
import { ISOLATED_AWS_ENV, envSandbox } from './env.js'

const env = envSandbox()
const inputEnv = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`

function setInputs(inputs: Record<string, string>): void {
  env.set(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [inputEnv(k), v])))
}

function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(InputError)
    return error as InputError
  }
  throw new Error('expected an InputError')
}

beforeEach(() => {
  env.set({
    ...ISOLATED_AWS_ENV,
    ...Object.fromEntries(AWS_AUTH_INPUT_NAMES.map((n) => [inputEnv(n), undefined])),
    GITHUB_RUN_ID: '987654321',
    GITHUB_RUN_ATTEMPT: '2'
  })
})
afterEach(() => env.restore())

describe('getAwsAuthInputs', () => {
  test('defaults: no role, session name from the run, one-hour sessions, 5 attempts', () => {
    setInputs({ 'aws-region': 'eu-west-1' })
    expect(getAwsAuthInputs('build-tag-push')).toEqual({
      actionName: 'build-tag-push',
      roleToAssume: undefined,
      region: 'eu-west-1',
      audience: 'sts.amazonaws.com',
      roleSessionName: 'shipline-build-tag-push-987654321-2',
      roleDurationSeconds: 3600,
      roleChaining: false,
      maxAttempts: 5
    })
  })

  test('reads every input', () => {
    setInputs({
      'role-to-assume': 'arn:aws-cn:iam::012345678901:role/ci/deployer',
      'aws-region': 'cn-north-1',
      audience: 'sts.amazonaws.com.cn',
      'role-session-name': 'my.session@ci',
      'role-duration-seconds': '900',
      'role-chaining': 'TRUE',
      'max-attempts': '1'
    })
    expect(getAwsAuthInputs('deploy-ecs')).toEqual({
      actionName: 'deploy-ecs',
      roleToAssume: 'arn:aws-cn:iam::012345678901:role/ci/deployer',
      region: 'cn-north-1',
      audience: 'sts.amazonaws.com.cn',
      roleSessionName: 'my.session@ci',
      roleDurationSeconds: 900,
      roleChaining: true,
      maxAttempts: 1
    })
  })

  test.each([
    ['role-duration-seconds', '899', /between 900 and 43200/],
    ['role-duration-seconds', '43201', /between 900 and 43200/],
    ['role-duration-seconds', '1h', /whole number/],
    ['max-attempts', '0', /between 1 and 20/],
    ['max-attempts', '21', /between 1 and 20/],
    ['role-chaining', 'yes', /true or false/],
    ['role-session-name', 'has space', /not a valid session name/],
    ['role-session-name', 'x', /not a valid session name/],
    ['role-session-name', 'a'.repeat(65), /not a valid session name/]
  ])('input %s = %j is rejected', (name, value, message) => {
    setInputs({ 'aws-region': 'us-east-1', [name]: value })
    const error = inputError(() => getAwsAuthInputs('scan-gate'))
    expect(error.input).toBe(name)
    expect(error.message).toMatch(message)
  })

  test('role chaining is limited to one-hour sessions', () => {
    setInputs({
      'aws-region': 'us-east-1',
      'role-to-assume': 'arn:aws:iam::123456789012:role/r',
      'role-chaining': 'true',
      'role-duration-seconds': '7200'
    })
    const error = inputError(() => getAwsAuthInputs('scan-gate'))
    expect(error.input).toBe('role-duration-seconds')
    expect(error.message).toContain('3600')
  })

  test('role chaining needs a role', () => {
    setInputs({ 'aws-region': 'us-east-1', 'role-chaining': 'true' })
    expect(inputError(() => getAwsAuthInputs('scan-gate')).input).toBe('role-chaining')
  })
})

describe('role ARN validation', () => {
  test.each([
    [
      'arn:aws:iam::123456789012:role/deploy',
      { partition: 'aws', accountId: '123456789012', name: 'deploy' }
    ],
    [
      'arn:aws:iam::123456789012:role/path/to/deploy',
      { partition: 'aws', accountId: '123456789012', name: 'path/to/deploy' }
    ],
    [
      'arn:aws-us-gov:iam::000000000001:role/a+b=c,d.e@f-g_h',
      { partition: 'aws-us-gov', accountId: '000000000001', name: 'a+b=c,d.e@f-g_h' }
    ],
    [
      'arn:aws-cn:iam::123456789012:role/x',
      { partition: 'aws-cn', accountId: '123456789012', name: 'x' }
    ]
  ])('%s is accepted', (arn, parts) => {
    expect(parseRoleArn(arn)).toEqual(parts)
    setInputs({ 'aws-region': 'us-east-1', 'role-to-assume': arn })
    expect(getAwsAuthInputs('scan-gate').roleToAssume).toBe(arn)
  })

  test.each([
    ['deploy', /full role ARN, not a bare name/],
    ['arn:aws:iam::12345678901:role/deploy', /exactly 12 digits.*leading zeros/],
    ['arn:aws:iam::123456789012:user/deploy', /IAM user, not a role/],
    [
      'arn:aws:sts::123456789012:assumed-role/deploy/session',
      /assumed-role session ARN.*arn:aws:iam::123456789012:role\/deploy/
    ],
    [
      'arn:aws:iam::123456789012:role/',
      /arn:<partition>:iam::<12-digit account>:role\/<path\/name>/
    ],
    ['arn:aws:iam::123456789012:role/has space', /letters, digits/],
    [`arn:aws:iam::123456789012:role/${'n'.repeat(65)}`, /at most 64/],
    ['arn:aws:s3:::bucket', /arn:<partition>:iam::/]
  ])('%s is rejected with the fix', (arn, hint) => {
    setInputs({ 'aws-region': 'us-east-1', 'role-to-assume': arn })
    const error = inputError(() => getAwsAuthInputs('scan-gate'))
    expect(error.input).toBe('role-to-assume')
    expect(error.message).toContain(`"${arn}" is not an IAM role ARN`)
    expect(error.message).toMatch(hint)
  })
})

describe('region', () => {
  test.each([
    [
      'input wins',
      { input: 'eu-west-1', AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' },
      'eu-west-1'
    ],
    ['then AWS_REGION', { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' }, 'us-east-1'],
    ['then AWS_DEFAULT_REGION', { AWS_DEFAULT_REGION: 'us-west-2' }, 'us-west-2'],
    [
      'blank values are skipped',
      { input: ' ', AWS_REGION: '', AWS_DEFAULT_REGION: 'ap-southeast-2' },
      'ap-southeast-2'
    ]
  ])('%s', (_label, sources: Record<string, string>, expected) => {
    const { input, ...vars } = sources
    expect(resolveRegion(input, vars)).toBe(expected)
  })

  test('the input is read through getAwsAuthInputs with the environment as fallback', () => {
    env.set({ AWS_DEFAULT_REGION: 'us-gov-west-1' })
    expect(getAwsAuthInputs('scan-gate').region).toBe('us-gov-west-1')
    setInputs({ 'aws-region': 'eu-central-2' })
    expect(getAwsAuthInputs('scan-gate').region).toBe('eu-central-2')
  })

  test('no region anywhere → an error naming aws-region', () => {
    const error = inputError(() => resolveRegion(undefined, {}))
    expect(error.input).toBe('aws-region')
    expect(error.message).toMatch(/Set "aws-region".*AWS_REGION/)
  })

  test.each([
    ['us-east-1a', /availability zone; use its region "us-east-1"/],
    ['US-EAST-1', /lower-case: use "us-east-1"/],
    ['useast1', /region code such as/]
  ])('%s is rejected', (value, hint) => {
    const error = inputError(() => resolveRegion(value, {}))
    expect(error.input).toBe('aws-region')
    expect(error.message).toMatch(hint)
  })

  test('a bad AWS_REGION is reported with its source', () => {
    expect(inputError(() => resolveRegion(undefined, { AWS_REGION: 'mars-1' })).message).toContain(
      '(from AWS_REGION)'
    )
  })
})

describe('session name', () => {
  test('sanitised and clipped to 64 characters', () => {
    expect(defaultSessionName('deploy-ecs', { GITHUB_RUN_ID: '1', GITHUB_RUN_ATTEMPT: '1' })).toBe(
      'shipline-deploy-ecs-1-1'
    )
    expect(defaultSessionName('my action/x', { GITHUB_RUN_ID: '7' })).toBe(
      'shipline-my_action_x-7-1'
    )
    expect(defaultSessionName('deploy-ecs', {})).toBe('shipline-deploy-ecs-local-1')
    const long = defaultSessionName('a'.repeat(80), { GITHUB_RUN_ID: '1' })
    expect(long).toHaveLength(64)
    expect(long).toMatch(/^[\w+=,.@-]{2,64}$/)
  })
})

describe('action-inputs.yml', () => {
  const doc = parse(
    readFileSync(new URL('../../../packages/aws/action-inputs.yml', import.meta.url), 'utf8')
  ) as {
    inputs: Record<string, { description?: string; required?: boolean; default?: string }>
  }

  test('declares exactly the inputs the code reads, each with a description, none required', () => {
    expect(Object.keys(doc.inputs)).toEqual([...AWS_AUTH_INPUT_NAMES])
    for (const input of Object.values(doc.inputs)) {
      expect(input.description?.length).toBeGreaterThan(10)
      expect(input.required).toBe(false)
    }
  })

  test('its defaults are the code defaults, as strings', () => {
    const defaults = Object.fromEntries(
      Object.entries(doc.inputs)
        .filter(([, input]) => input.default !== undefined)
        .map(([name, input]) => [name, input.default])
    )
    expect(defaults).toEqual(AWS_AUTH_DEFAULTS)
    for (const value of Object.values(defaults)) expect(typeof value).toBe('string')
  })

  test('the code applies the same defaults when the runner does not', () => {
    setInputs({ 'aws-region': 'us-east-1' })
    const parsed = getAwsAuthInputs('x')
    expect(String(parsed.audience)).toBe(AWS_AUTH_DEFAULTS.audience)
    expect(String(parsed.roleDurationSeconds)).toBe(AWS_AUTH_DEFAULTS['role-duration-seconds'])
    expect(String(parsed.roleChaining)).toBe(AWS_AUTH_DEFAULTS['role-chaining'])
    expect(String(parsed.maxAttempts)).toBe(AWS_AUTH_DEFAULTS['max-attempts'])
  })
})
