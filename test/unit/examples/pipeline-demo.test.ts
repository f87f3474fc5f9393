import { describe, expect, it } from '@jest/globals'
import { kubeEndpoint, renderSummary } from '../../../examples/pipeline-demo.js'
import type { SimStack } from '../../../packages/sim/src/stack.js'

describe('renderSummary (job summaries for a terminal)', () => {
  it('turns the HTML and Markdown of a summary into plain text', () => {
    const summary =
      '<h2>deploy-ecs: web — SUCCESSFUL</h2>\n<table><tr><th>Field</th><th>Value</th></tr>' +
      '<tr><td>Revision</td><td><code>web:2</code></td></tr></table>\n### Timeline\n&nbsp;a &lt;b&gt; &amp; c\n\n\n\nend'
    expect(renderSummary(summary)).toBe(
      'deploy-ecs: web — SUCCESSFUL\n\nField | Value | \nRevision | web:2 | \n\nTimeline\n a <b> & c\n\nend'
    )
  })
})

describe('kubeEndpoint (the Kubernetes API of the local stack, when it has one)', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'
  const stack = (extra: Record<string, unknown>): SimStack =>
    ({ endpoint: 'http://127.0.0.1:1', ...extra }) as unknown as SimStack

  it('finds an https endpoint and a PEM CA on a kube member', () => {
    expect(kubeEndpoint(stack({ kube: { url: 'https://127.0.0.1:6443', caPem: pem } }))).toEqual({
      endpoint: 'https://127.0.0.1:6443',
      caPem: pem
    })
  })

  it.each([
    [{}],
    [{ kube: { url: 'http://127.0.0.1:6443', caPem: pem } }],
    [{ kube: { url: 'https://127.0.0.1:6443' } }],
    [{ registry: { url: 'https://127.0.0.1:6443', caPem: pem } }]
  ])('finds none in %j', (extra) => {
    expect(kubeEndpoint(stack(extra))).toBeUndefined()
  })
})
