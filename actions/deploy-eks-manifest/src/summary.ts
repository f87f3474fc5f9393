import { escapeHtml, writeSummary } from '@shipline/action-kit'
import type { DeployReport, GitopsResult, Substitution } from '@shipline/kube'
import type { GitopsModeInputs } from './inputs.js'

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`
}

/** One job-summary section: applied objects, images, rollout per workload with durations, diagnosis. */
export async function writeApplySummary(
  cluster: string,
  report: DeployReport,
  substitutions: Substitution[]
): Promise<void> {
  const tables = []
  if (substitutions.length) {
    tables.push({
      caption: 'Images',
      header: ['Object', 'Container', 'Before', 'After'],
      rows: substitutions.map((s) => [
        escapeHtml(s.object),
        escapeHtml(s.container),
        `\`${escapeHtml(s.from)}\``,
        `\`${escapeHtml(s.to)}\``
      ])
    })
  }
  if (report.applied.length) {
    tables.push({
      caption: 'Applied',
      header: ['Kind', 'Namespace', 'Name'],
      rows: report.applied.map((a) => [a.kind, a.namespace ?? '', escapeHtml(a.name)])
    })
  }
  if (report.workloads.length) {
    tables.push({
      caption: 'Rollout',
      header: ['Workload', 'Result', 'Duration', 'Detail'],
      rows: report.workloads.map((w) => [
        `\`${escapeHtml(w.id)}\``,
        w.outcome,
        seconds(w.durationMs),
        escapeHtml([w.message, ...(w.events ?? []).map((e) => `event ${e}`)].join(' · '))
      ])
    })
  }
  await writeSummary({
    title: `deploy-eks-manifest: ${cluster} — ${report.status}`,
    rows: [
      ['Cluster', `\`${escapeHtml(cluster)}\``],
      ['Status', report.status],
      ...(report.message ? ([['Result', escapeHtml(report.message)]] as [string, string][]) : []),
      ...report.notes.map((n) => ['Note', escapeHtml(n)] as [string, string])
    ],
    tables
  })
}

export async function writeGitopsSummary(
  inputs: GitopsModeInputs,
  result: GitopsResult
): Promise<void> {
  await writeSummary({
    title: `deploy-eks-manifest (gitops): ${inputs.repository.owner}/${inputs.repository.name} — ${result.status}`,
    rows: [
      ['Branch', `\`${escapeHtml(inputs.branch)}\``],
      ['Path', `\`${escapeHtml(inputs.path)}\``],
      ['Status', result.status],
      ...(result.commitSha ? ([['Commit', `\`${result.commitSha}\``]] as [string, string][]) : []),
      ...(result.pullRequestUrl
        ? ([
            [
              'Pull request',
              `<a href="${escapeHtml(result.pullRequestUrl)}">${escapeHtml(result.pullRequestUrl)}</a>`
            ]
          ] as [string, string][])
        : [])
    ],
    tables: result.changes.length
      ? [
          {
            caption: 'Changes',
            header: ['File', 'Where', 'Before', 'After'],
            rows: result.changes.map((c) => [
              escapeHtml(c.file),
              escapeHtml(c.where),
              escapeHtml(c.from),
              escapeHtml(c.to)
            ])
          }
        ]
      : []
  })
}

/** The access diagnosis of a 401/403 from the cluster (no token or secret in it). */
export async function writeAuthSummary(
  cluster: string,
  lines: string[],
  hint: string
): Promise<void> {
  await writeSummary({
    title: `deploy-eks-manifest: ${cluster} — access denied`,
    rows: lines.map((line) => {
      const at = line.indexOf(': ')
      return [escapeHtml(line.slice(0, at)), escapeHtml(line.slice(at + 2))] as [string, string]
    }),
    markdown: `**Fix:** ${escapeHtml(hint)}`
  })
}
