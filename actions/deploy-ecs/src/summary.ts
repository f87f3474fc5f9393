import { escapeHtml, writeSummary } from '@shipline/action-kit'
import { consoleUrl, type DeployReport, formatMs } from '@shipline/ecs'

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

/** One job-summary section: outcome, verify tree, diff, timeline, events and the diagnosis. No secret values. */
export async function writeDeploySummary(report: DeployReport, region: string): Promise<void> {
  const tables = []
  if (report.checks.length) {
    tables.push({
      caption: 'Verify',
      header: ['Result', 'Check', 'Detail'],
      rows: report.checks.map((c) => [c.status, escapeHtml(c.subject), escapeHtml(c.detail)])
    })
  }
  if (report.diff.length) {
    tables.push({
      caption: 'Changes',
      header: ['Field', 'Before', 'After'],
      rows: report.diff
        .slice(0, 50)
        .map((d) => [escapeHtml(d.path), escapeHtml(d.from), escapeHtml(d.to)])
    })
  }
  const cd = report.codeDeploy
  if (cd?.lifecycle.length) {
    tables.push({
      caption: 'CodeDeploy lifecycle events',
      header: ['Event', 'Status', 'Duration', 'Diagnostics'],
      rows: cd.lifecycle.map((e) => [
        escapeHtml(e.name),
        escapeHtml(e.status),
        e.startTime !== undefined && e.endTime !== undefined
          ? seconds(e.endTime - e.startTime)
          : '',
        escapeHtml([e.diagnostics?.errorCode, e.diagnostics?.message].filter(Boolean).join(': '))
      ])
    })
  }
  if (cd?.traffic.length) {
    tables.push({
      caption: 'Traffic shift',
      header: ['Task sets'],
      rows: cd.traffic.map((t) => [escapeHtml(t)])
    })
  }
  const timeline = report.track?.timeline ?? []
  if (timeline.length) {
    const start = report.startedAt
    tables.push({
      caption: 'Timeline',
      header: ['At', 'What'],
      rows: [
        ...(report.registeredAt
          ? [[`+${seconds(report.registeredAt - start)}`, 'revision registered']]
          : []),
        ...timeline.map((t) => [`+${seconds(t.at - start)}`, escapeHtml(t.what)])
      ]
    })
  }
  const stages = report.track?.stages ?? []
  if (stages.length) {
    tables.push({
      caption: 'Lifecycle stages',
      header: ['Stage', 'Duration', 'Production traffic on the new revision'],
      rows: stages.map((s) => [
        s.stage,
        s.endedAt === undefined
          ? `${formatMs(Date.now() - s.startedAt)} (running)`
          : formatMs(s.endedAt - s.startedAt),
        s.trafficPercent === undefined ? '' : `${s.trafficPercent}%`
      ])
    })
  }
  const events = report.track?.events ?? []
  if (events.length) {
    tables.push({
      caption: 'Service events',
      header: ['Event'],
      rows: events.slice(-20).map((e) => [escapeHtml(e)])
    })
  }
  const stopped = report.track?.stopped ?? []
  if (stopped.length) {
    tables.push({
      caption: 'Stopped tasks',
      header: ['Tasks', 'Reason', 'Containers', 'Hint'],
      rows: stopped.map((g) => [
        String(g.count),
        escapeHtml(g.reason),
        escapeHtml(g.containers.join('; ')),
        escapeHtml(g.hint ?? '')
      ])
    })
  }
  await writeSummary({
    title: `deploy-ecs: ${report.service} — ${report.status ?? 'FAILED'}`,
    rows: [
      ['Cluster / service', `\`${report.cluster}\` / \`${report.service}\``],
      [
        'Task definition',
        report.taskDefinitionArn ? `\`${report.taskDefinitionArn}\`` : '(not registered)'
      ],
      ['Changed', report.changed ? 'yes' : 'no'],
      ['Deployment', report.deploymentId ? `\`${report.deploymentId}\`` : ''],
      ['Status', report.status ?? 'FAILED'],
      ...(report.reason ? ([['Reason', escapeHtml(report.reason)]] as [string, string][]) : []),
      ...(cd
        ? ([
            [
              'CodeDeploy',
              `\`${escapeHtml(cd.application)}\` / \`${escapeHtml(cd.deploymentGroup)}\`${cd.deploymentConfig ? ` (${escapeHtml(cd.deploymentConfig)})` : ''}`
            ],
            [
              'CodeDeploy deployment',
              cd.deploymentId
                ? `<a href="${cd.consoleUrl ?? ''}">${escapeHtml(cd.deploymentId)}</a>${cd.rollbackDeploymentId ? ` (rolled back by ${escapeHtml(cd.rollbackDeploymentId)})` : ''}`
                : '(not created)'
            ],
            ...(cd.budget ? [['Wait budget', escapeHtml(cd.budget.explanation)]] : [])
          ] as [string, string][])
        : []),
      [
        'Console',
        `<a href="${consoleUrl(region, report.cluster, report.service)}">service deployments</a>`
      ]
    ],
    tables
  })
}
