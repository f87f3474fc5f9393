import { describe, expect, it } from '@jest/globals'
import { InputError } from '@shipline/action-kit'
import {
  changesFromMapping,
  parseChangeLines,
  parseCommand,
  parseRuntimePlatform,
  splitCommandLine,
  validateEnvFileArn,
  validateLogDriver,
  validateSecretSource,
  validateTaskCpu,
  validateTaskMemory
} from '../../../packages/ecs/src/task-definition/overrides.js'

describe('parseChangeLines', () => {
  it('sets, empties and removes; values keep "="', () => {
    expect(parseChangeLines('environment-variables', 'A=1\n\n# note\nB=x=y\nC=\n-D\n')).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: 'x=y' },
      { name: 'C', value: '' },
      { name: 'D', remove: true }
    ])
  })

  it.each([
    ['JUSTNAME', 'line 1 "JUSTNAME" is not KEY=VALUE'],
    ['=value', 'line 1 "=value" is not KEY=VALUE'],
    ['MY VAR=1', '"MY VAR" is not a valid name']
  ])('rejects %s', (text, message) => {
    expect(() => parseChangeLines('environment-variables', text)).toThrow(message)
  })
})

describe('changesFromMapping', () => {
  it('maps values to changes and null to removal', () => {
    expect(changesFromMapping('x', { A: 'a', N: 1, R: null })).toEqual([
      { name: 'A', value: 'a' },
      { name: 'N', value: '1' },
      { name: 'R', remove: true }
    ])
  })
  it('rejects nested values', () => {
    expect(() => changesFromMapping('x', { A: { b: 1 } })).toThrow(InputError)
  })
})

describe('command parsing', () => {
  it.each([
    ['node server.js', ['node', 'server.js']],
    [`sh -c "echo \\"hi\\" there"`, ['sh', '-c', 'echo "hi" there']],
    [`echo 'a b'  c\\ d ""`, ['echo', 'a b', 'c d', '']],
    ['["npm", "run", "start:prod"]', ['npm', 'run', 'start:prod']]
  ])('splits %s', (text, args) => {
    expect(parseCommand('command', text)).toEqual(args)
  })

  it('rejects unterminated quotes, bad JSON and empty commands', () => {
    expect(() => splitCommandLine('command', 'sh -c "echo')).toThrow('unterminated double quote')
    expect(() => parseCommand('command', '["a", 1')).toThrow('is not a JSON array')
    expect(() => parseCommand('command', '[]')).toThrow('is an empty command')
  })
})

describe('validators', () => {
  it.each([
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf',
    'arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf:password::',
    'arn:aws:ssm:eu-west-1:123456789012:parameter/app/token',
    '/app/token'
  ])('accepts the secret source %s', (value) => {
    expect(() => validateSecretSource('secrets', 'X', value)).not.toThrow()
  })

  it.each([
    'arn:aws:s3:::bucket/key',
    'arn:aws:secretsmanager:us-east-1:12345:secret:x',
    'not a param'
  ])('rejects the secret source %s', (value) => {
    expect(() => validateSecretSource('secrets', 'X', value)).toThrow(
      'is not a Secrets Manager or SSM parameter reference'
    )
  })

  it('validates env-file ARNs, log drivers, cpu and memory', () => {
    expect(() => validateEnvFileArn('env-files', 'arn:aws:s3:::my-bucket/app.env')).not.toThrow()
    expect(() => validateEnvFileArn('env-files', 's3://my-bucket/app.env')).toThrow(
      'is not an S3 object ARN'
    )
    expect(validateLogDriver('log-configuration-log-driver', 'AWSLOGS')).toBe('awslogs')
    expect(() => validateLogDriver('log-configuration-log-driver', 'cloudwatch')).toThrow(
      'is not a log driver'
    )
    expect(validateTaskCpu('cpu', '0.5 vCPU')).toBe('0.5 vCPU')
    expect(() => validateTaskCpu('cpu', 'two')).toThrow('is not a task CPU value')
    expect(validateTaskMemory('memory', '2GB')).toBe('2GB')
    expect(() => validateTaskMemory('memory', '2 TB')).toThrow('is not a task memory value')
  })

  it('parses runtime platforms in ECS and Docker notation', () => {
    expect(parseRuntimePlatform('runtime-platform', 'linux/arm64')).toEqual({
      operatingSystemFamily: 'LINUX',
      cpuArchitecture: 'ARM64'
    })
    expect(parseRuntimePlatform('runtime-platform', 'WINDOWS_SERVER_2022_CORE/X86_64')).toEqual({
      operatingSystemFamily: 'WINDOWS_SERVER_2022_CORE',
      cpuArchitecture: 'X86_64'
    })
    expect(() => parseRuntimePlatform('runtime-platform', 'linux/riscv')).toThrow(
      'is not <operating system>/<cpu architecture>'
    )
  })
})
