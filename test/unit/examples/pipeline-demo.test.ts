import { describe, expect, it } from '@jest/globals'
import { renderSummary } from '../../../examples/pipeline-demo.js'

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
