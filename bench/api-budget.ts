// Target 6: AWS requests per minute of waiting, from the simulator's request log, at default settings and real speed
// (the request rate is the point, so nothing is sped up):
// - deploy-ecs rolling out a 10-task service: the action's requests between its "deployment … started" line and
//   its exit, per minute of that window;
// - deploy-ecs under injected throttling (50 % of DescribeServices answer ThrottlingException): same figure, how
//   many were throttled, and that it still succeeds (the adaptive backoff doubles the interval on throttling);
// - scan-gate waiting for a basic scan that takes 40 s (sim scenario scanSeconds), default settle-time: the action's
//   requests from its first DescribeImageScanFindings to its exit, per minute.
// The bench's own set-up calls use the stack's bootstrap key and are excluded.
// Usage: npx tsx bench/api-budget.ts      (needs `npm run bundle -- deploy-ecs scan-gate` first)
import {
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  GetAuthorizationTokenCommand
} from '@aws-sdk/client-ecr'
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RequestLogEntry } from '../packages/sim/src/core/server.js'
import { startStack, type SimStack } from '../packages/sim/src/stack.js'
import { runAction } from '../test/helpers/runner.js'
import { ecsBench, GOOD } from './lib/ecs.js'
import type { BenchOptions, BenchRow } from './lib/row.js'
import { isMain, runStandalone } from './lib/standalone.js'

const LIMIT = 40
const WRITES = new Set(['RegisterTaskDefinition', 'CreateService', 'UpdateService'])

interface Window {
  requests: RequestLogEntry[]
  minutes: number
  perMinute: number
}

/** The action's requests (not the bench's bootstrap key) logged between two wall-clock instants. */
function window(stack: SimStack, sinceId: number, fromWall: number, toWall: number): Window {
  const offset = stack.clock.now() - Date.now()
  const key = stack.clientConfig.credentials.accessKeyId
  const requests = stack
    .requestLog({ sinceId, kind: 'aws' })
    .filter((r) => r.accessKeyId !== key)
    .filter((r) => r.timeMs - offset >= fromWall && r.timeMs - offset <= toWall)
  const minutes = (toWall - fromWall) / 60_000
  return { requests, minutes, perMinute: requests.length / minutes }
}

async function deployEcs(
  options: BenchOptions,
  throttle: boolean
): Promise<{ w: Window; status: string; throttled: number }> {
  const b = await ecsBench(1)
  try {
    const name = throttle ? 'budget-throttled' : 'budget'
    await b.newService(name, 10)
    if (throttle)
      await b.stack.admin.post('faults', {
        service: 'ecs',
        operation: 'DescribeServices',
        type: 'throttle',
        rate: 0.5,
        spread: true
      })
    const sinceId = b.stack.requestLog().at(-1)?.id ?? 0
    let waitFrom = 0
    const { result, exitedAt } = await b.deploy(name, GOOD[1]!, {
      onOutput: (stdout) => {
        if (!waitFrom && /deployment \S+ started/.test(stdout)) waitFrom = Date.now()
      }
    })
    // The deploy's own writes (logged within milliseconds of its "started" line) are not waiting.
    const all = window(b.stack, sinceId, waitFrom, exitedAt)
    const requests = all.requests.filter((r) => !WRITES.has(r.operation))
    const w = { ...all, requests, perMinute: requests.length / all.minutes }
    const throttled = w.requests.filter((r) => r.errorCode?.startsWith('Throttl')).length
    const ops = new Map<string, number>()
    for (const r of w.requests) ops.set(r.operation, (ops.get(r.operation) ?? 0) + 1)
    options.log(
      `api-budget deploy-ecs${throttle ? ' (throttled)' : ''}: ${result.outputs['status']}, ${w.requests.length} requests in ${(w.minutes * 60).toFixed(1)} s (${[...ops].map(([o, n]) => `${o} ${n}`).join(', ')}), ${throttled} throttled`
    )
    return { w, status: result.outputs['status'] ?? `exit ${result.exitCode}`, throttled }
  } finally {
    await b.stop()
  }
}

function docker(args: string[], dockerConfig: string, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      { encoding: 'utf8', env: { ...process.env, DOCKER_CONFIG: dockerConfig } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`docker ${args[0]}: ${stderr || error.message}`)) : resolve(stdout)
    )
    child.stdin?.end(input ?? '')
  })
}

async function scanGate(options: BenchOptions): Promise<{ w: Window; verdict: string }> {
  const stack = await startStack({ speed: 1 })
  const ecr = new ECRClient({ ...stack.clientConfig })
  const temp = mkdtempSync(join(tmpdir(), 'bench-deploy-scan-'))
  const image = `bench-deploy-scan:${process.pid}`
  const pushed = `${stack.registryHost}/bench/scan:v1`
  try {
    const context = join(temp, 'ctx')
    cpSync('/bin/busybox', join(context, 'busybox'), { recursive: true })
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\n')
    await docker(['build', '--quiet', '-t', image, context], temp)
    const auth = await ecr.send(new GetAuthorizationTokenCommand({}))
    const token = auth.authorizationData?.[0]?.authorizationToken as string
    const password = Buffer.from(token, 'base64').toString('utf8').split(':')[1] as string
    await docker(
      ['login', '--username', 'AWS', '--password-stdin', stack.registryHost],
      temp,
      password
    )
    const repository = 'bench/scan'
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }))
    await stack.admin.post('ecr/scan-scenario', {
      repository,
      scenario: { findings: [], scanSeconds: 40 }
    })
    const ref = pushed
    await docker(['tag', image, ref], temp)
    await docker(['push', '--quiet', ref], temp)
    await ecr.send(new DescribeImagesCommand({ repositoryName: repository }))
    const sinceId = stack.requestLog().at(-1)?.id ?? 0
    const result = await runAction('scan-gate', {
      inputs: { 'role-to-assume': stack.roleArn, image: ref },
      env: stack.env,
      workspace: mkdtempSync(join(temp, 'ws-')),
      timeoutMs: 300_000
    })
    const exitedAt = Date.now()
    const offset = stack.clock.now() - Date.now()
    const first = stack
      .requestLog({ sinceId, operation: 'DescribeImageScanFindings' })
      .filter((r) => r.accessKeyId !== stack.clientConfig.credentials.accessKeyId)[0]
    const w = window(stack, sinceId, (first?.timeMs ?? NaN) - offset, exitedAt)
    options.log(
      `api-budget scan-gate: exit ${result.exitCode}, ${w.requests.length} requests in ${(w.minutes * 60).toFixed(1)} s ${result.errors.join(' ')}`
    )
    return { w, verdict: result.exitCode === 0 ? 'passed' : `exit ${result.exitCode}` }
  } finally {
    ecr.destroy()
    await docker(['rmi', '--force', image, pushed], temp).catch(() => undefined)
    await stack.stop()
    rmSync(temp, { recursive: true, force: true })
  }
}

export async function bench(options: BenchOptions): Promise<BenchRow[]> {
  const plain = await deployEcs(options, false)
  const throttled = await deployEcs(options, true)
  const scan = await scanGate(options)
  const rate = (w: Window) => `${w.perMinute.toFixed(1)} req/min`
  return [
    {
      target: '6 API budget (deploy-ecs)',
      measure: `deploy-ecs, 10-task rolling deploy: AWS requests per minute of waiting`,
      figure: rate(plain.w),
      ratio: undefined,
      limit: `≤ ${LIMIT} req/min`,
      pass: plain.status === 'SUCCESSFUL' && plain.w.perMinute <= LIMIT,
      note: `${plain.w.requests.length} requests over ${(plain.w.minutes * 60).toFixed(0)} s of waiting, ${plain.status}; simulated ECS at real speed, default poll settings`
    },
    {
      target: '6 API budget (throttled)',
      measure: 'deploy-ecs with 50 % of DescribeServices throttled',
      figure: rate(throttled.w),
      ratio: throttled.w.perMinute / plain.w.perMinute,
      limit: `succeeds, ≤ ${LIMIT} req/min`,
      pass: throttled.status === 'SUCCESSFUL' && throttled.w.perMinute <= LIMIT,
      note: `${throttled.throttled} of ${throttled.w.requests.length} requests throttled, ${throttled.status}; ratio = rate under throttling / unthrottled rate (adaptive backoff)`
    },
    {
      target: '6 API budget (scan-gate)',
      measure: 'scan-gate waiting for a 40 s basic scan, default settle-time',
      figure: rate(scan.w),
      ratio: undefined,
      limit: `≤ ${LIMIT} req/min`,
      pass: scan.verdict === 'passed' && scan.w.perMinute <= LIMIT,
      note: `${scan.w.requests.length} requests over ${(scan.w.minutes * 60).toFixed(0)} s from the first DescribeImageScanFindings to exit, gate ${scan.verdict}`
    }
  ]
}

if (isMain(import.meta.url)) await runStandalone(bench)
