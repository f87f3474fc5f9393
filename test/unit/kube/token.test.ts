import { describe, expect, it } from '@jest/globals'
import { createEksToken, decodeEksToken, TOKEN_RENEW_MS } from '@shipline/kube'

const credentials = {
  accessKeyId: 'ASIAEXAMPLEEXAMPLE01',
  secretAccessKey: 'secretsecretsecretsecretsecretsecret0000',
  sessionToken: 'session/token+with=chars'
}

describe('EKS token', () => {
  it('is k8s-aws-v1. + unpadded base64url of a presigned STS GetCallerIdentity URL', async () => {
    const now = Date.UTC(2026, 11, 3, 12, 0, 0)
    const token = await createEksToken({
      clusterName: 'prod',
      region: 'eu-west-1',
      credentials,
      now: () => now
    })
    expect(token.token.startsWith('k8s-aws-v1.')).toBe(true)
    const payload = token.token.slice('k8s-aws-v1.'.length)
    expect(payload).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(payload.endsWith('=')).toBe(false)
    const url = decodeEksToken(token.token)
    expect(url.protocol).toBe('https:')
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com')
    expect(url.pathname).toBe('/')
    const keys = [...url.searchParams.keys()].sort()
    expect(keys).toEqual(
      [
        'Action',
        'Version',
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-Security-Token',
        'X-Amz-Signature',
        'X-Amz-SignedHeaders'
      ].sort()
    )
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity')
    expect(url.searchParams.get('Version')).toBe('2011-06-15')
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60')
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id')
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261203T120000Z')
    expect(url.searchParams.get('X-Amz-Credential')).toBe(
      'ASIAEXAMPLEEXAMPLE01/20261203/eu-west-1/sts/aws4_request'
    )
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(credentials.sessionToken)
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    expect(token.renewAt - token.signedAt).toBe(TOKEN_RENEW_MS)
    expect(TOKEN_RENEW_MS).toBeLessThan(14 * 60 * 1000)
  })

  it('binds the signature to the cluster name', async () => {
    const now = () => Date.UTC(2026, 0, 1)
    const a = await createEksToken({ clusterName: 'a', region: 'us-east-1', credentials, now })
    const b = await createEksToken({ clusterName: 'b', region: 'us-east-1', credentials, now })
    const sig = (t: string) => decodeEksToken(t).searchParams.get('X-Amz-Signature')
    expect(sig(a.token)).not.toBe(sig(b.token))
  })

  it('uses the China partition host for cn- regions', async () => {
    const token = await createEksToken({ clusterName: 'c', region: 'cn-north-1', credentials })
    expect(decodeEksToken(token.token).host).toBe('sts.cn-north-1.amazonaws.com.cn')
  })
})
