import { afterEach, describe, expect, it, jest } from '@jest/globals'
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr'
import { mockClient } from 'aws-sdk-client-mock'
import { containsSecret } from '../../../packages/action-kit/src/index.js'
import { decodeAuthorizationToken, getEcrLogin, registryHostOf } from '@shipline/ecr'

const ecrMock = mockClient(ECRClient)
const ecr = new ECRClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'a', secretAccessKey: 'b' }
})

afterEach(() => {
  ecrMock.reset()
})

describe('ECR login', () => {
  it('decodes and masks the token and the password before returning them', async () => {
    const written: string[] = []
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk))
        return true
      })
    const token = Buffer.from('AWS:pa55-word-from-ecr').toString('base64')
    ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [
        {
          authorizationToken: token,
          proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com',
          expiresAt: new Date(0)
        }
      ]
    })
    const login = await getEcrLogin(ecr, '123456789012')
    expect(login).toMatchObject({
      username: 'AWS',
      password: 'pa55-word-from-ecr',
      registry: '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    })
    expect(ecrMock.commandCalls(GetAuthorizationTokenCommand)[0]?.args[0].input).toEqual({
      registryIds: ['123456789012']
    })
    write.mockRestore()
    expect(written.join('')).toContain('::add-mask::pa55-word-from-ecr')
    expect(written.join('')).toContain(`::add-mask::${token}`)
    expect(containsSecret('x pa55-word-from-ecr y')).toBe(true)
  })

  it('rejects a token that is not user:password', () => {
    expect(() => decodeAuthorizationToken(Buffer.from('garbage').toString('base64'))).toThrow(
      /not base64 "user:password"/
    )
  })

  it('strips the scheme of the proxy endpoint', () => {
    expect(registryHostOf('http://127.0.0.1:5001')).toBe('127.0.0.1:5001')
    expect(registryHostOf('https://1.dkr.ecr.us-east-1.amazonaws.com/')).toBe(
      '1.dkr.ecr.us-east-1.amazonaws.com'
    )
  })

  it('names ecr:GetAuthorizationToken on AccessDenied', async () => {
    ecrMock
      .on(GetAuthorizationTokenCommand)
      .rejects(
        Object.assign(
          new Error('User: x is not authorized to perform: ecr:GetAuthorizationToken'),
          { name: 'AccessDeniedException' }
        )
      )
    await expect(getEcrLogin(ecr)).rejects.toThrow(
      /Grant the principal x the IAM permission "ecr:GetAuthorizationToken"/
    )
  })
})
