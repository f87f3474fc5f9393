import { describe, expect, test } from '@jest/globals'
import { ECRServiceException } from '@aws-sdk/client-ecr'
import { ActionError } from '@shipline/action-kit'
import {
  backoffDelay,
  decodeTokenClaims,
  describeAwsError,
  describeClaims,
  isTransientError,
  trustPolicyFor,
  withRetries
} from '@shipline/aws'
import { fakeJwt } from './local-aws.js'

function sdkError(
  name: string,
  message: string,
  status: number,
  requestId = 'req-123'
): ECRServiceException {
  return new ECRServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId, attempts: 3 }
  })
}

describe('describeAwsError', () => {
  test('AccessDenied names the operation, code, resource, principal and the exact IAM action to grant', () => {
    const error = sdkError(
      'AccessDeniedException',
      'User: arn:aws:sts::123456789012:assumed-role/ci/s is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/api because no identity-based policy allows the ecr:PutImage action',
      400
    )
    const result = describeAwsError(error, {
      action: 'ecr:PutImage',
      resource: 'arn:aws:ecr:us-east-1:123456789012:repository/api'
    })
    expect(result).toBeInstanceOf(ActionError)
    expect(result.cause).toBe(error)
    expect(result.message).toMatch(
      /^ecr:PutImage on arn:aws:ecr:us-east-1:123456789012:repository\/api failed: AccessDeniedException: /
    )
    expect(result.message).toContain('request ID req-123')
    expect(result.hint).toContain(
      'Grant the principal arn:aws:sts::123456789012:assumed-role/ci/s the IAM permission "ecr:PutImage"'
    )
    expect(result.hint).toContain(
      '"Action": "ecr:PutImage", "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/api"'
    )
  })

  test('a plain-name resource still gets the grant hint', () => {
    const result = describeAwsError(sdkError('AccessDenied', 'denied', 403), {
      action: 'ecs:UpdateService',
      resource: 'service api'
    })
    expect(result.message).toContain(
      'ecs:UpdateService on service api failed: AccessDenied: denied'
    )
    expect(result.hint).toContain(
      'the role this action runs as the IAM permission "ecs:UpdateService"'
    )
  })

  test.each([
    ['ThrottlingException', 400, /throttling or unavailable after 3 attempts.*max-attempts/],
    ['InternalFailure', 500, /throttling or unavailable/],
    ['ExpiredTokenException', 400, /credentials expired/],
    ['InvalidClientTokenId', 403, /rejected the credentials/],
    ['RepositoryNotFoundException', 400, /exists in this account and region/]
  ])('%s gets a matching hint', (code, status, hint) => {
    const result = describeAwsError(sdkError(code, 'something happened', status), {
      action: 'ecr:DescribeImages',
      resource: 'api'
    })
    expect(result.message).toContain(
      `ecr:DescribeImages on api failed: ${code}: something happened`
    )
    expect(result.hint).toMatch(hint)
  })

  test('an ActionError passes through unchanged; plain errors get a readable code', () => {
    const original = new ActionError('already explained', 'do this')
    expect(describeAwsError(original, { action: 'x:Y' })).toBe(original)
    const result = describeAwsError(
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      { action: 'ecs:DescribeServices' }
    )
    expect(result.message).toContain('ecs:DescribeServices failed: ECONNRESET: socket hang up')
    expect(result.message).not.toContain('[object Object]')
  })
})

describe('isTransientError', () => {
  test.each([
    [{ name: 'ThrottlingException' }, true],
    [{ name: 'IDPCommunicationError' }, true],
    [{ name: 'IDPCommunicationErrorException' }, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 503 } }, true],
    [{ name: 'Whatever', $metadata: { httpStatusCode: 429 } }, true],
    [Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), true],
    [{ name: 'Error', cause: { code: 'ETIMEDOUT' } }, true],
    [{ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }, false],
    [{ name: 'InvalidIdentityTokenException', $metadata: { httpStatusCode: 400 } }, false],
    [{ name: 'ValidationError', $metadata: { httpStatusCode: 400 } }, false],
    ['a string', false]
  ])('%j → %s', (error, expected) => {
    expect(isTransientError(error)).toBe(expected)
  })
})

describe('withRetries', () => {
  test('retries transient failures with growing, bounded, jittered delays', async () => {
    const sleeps: number[] = []
    let calls = 0
    const result = await withRetries(
      () => {
        calls++
        if (calls < 4)
          return Promise.reject(Object.assign(new Error('busy'), { name: 'ThrottlingException' }))
        return Promise.resolve('ok')
      },
      {
        maxAttempts: 5,
        sleep: (ms) => (sleeps.push(ms), Promise.resolve()),
        random: () => 1,
        baseDelayMs: 100,
        maxDelayMs: 300
      }
    )
    expect(result).toBe('ok')
    expect(calls).toBe(4)
    expect(sleeps).toEqual([150, 250, 350])
  })

  test('does not retry a permanent failure', async () => {
    let calls = 0
    const denied = Object.assign(new Error('no'), { name: 'AccessDenied' })
    await expect(
      withRetries(
        () => {
          calls++
          return Promise.reject(denied)
        },
        { maxAttempts: 5, sleep: () => Promise.resolve() }
      )
    ).rejects.toBe(denied)
    expect(calls).toBe(1)
  })

  test('backoff stays within [base/2, base/2 + cap]', () => {
    for (const attempt of [1, 2, 5, 30]) {
      expect(backoffDelay(attempt, () => 0, 200, 10_000)).toBe(100)
      expect(backoffDelay(attempt, () => 0.999999, 200, 10_000)).toBeLessThanOrEqual(100 + 10_000)
    }
  })
})

describe('token claims and trust policy', () => {
  const token = fakeJwt({
    sub: 'repo:Octo-Org/api:environment:production',
    aud: 'sts.amazonaws.com',
    iss: 'https://token.actions.githubusercontent.com',
    extra: 1
  })

  test('decodes sub, aud and iss without verifying', () => {
    expect(decodeTokenClaims(token)).toEqual({
      sub: 'repo:Octo-Org/api:environment:production',
      aud: 'sts.amazonaws.com',
      iss: 'https://token.actions.githubusercontent.com'
    })
    expect(decodeTokenClaims('not-a-jwt')).toBeNull()
    expect(decodeTokenClaims('a.!!!.c')).toBeNull()
    expect(describeClaims(null)).toContain('could not be decoded')
  })

  test("builds the statement that admits exactly the token's subject (StringEquals, no repository wildcard)", () => {
    const statement = JSON.parse(
      trustPolicyFor(decodeTokenClaims(token), 'arn:aws-us-gov:iam::123456789012:role/d')
    ) as unknown
    expect(statement).toEqual({
      Effect: 'Allow',
      Principal: {
        Federated:
          'arn:aws-us-gov:iam::123456789012:oidc-provider/token.actions.githubusercontent.com'
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:Octo-Org/api:environment:production'
        }
      }
    })
  })

  test('a non-repository subject is matched exactly; enterprise issuers keep their path', () => {
    const claims = {
      sub: 'custom-subject',
      aud: 'my-aud',
      iss: 'https://token.actions.githubusercontent.com/acme'
    }
    const statement = JSON.parse(trustPolicyFor(claims, 'arn:aws:iam::123456789012:role/d')) as {
      Principal: { Federated: string }
      Condition: unknown
    }
    expect(statement.Principal.Federated).toBe(
      'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com/acme'
    )
    expect(statement.Condition).toEqual({
      StringEquals: {
        'token.actions.githubusercontent.com/acme:aud': 'my-aud',
        'token.actions.githubusercontent.com/acme:sub': 'custom-subject'
      }
    })
  })
})
