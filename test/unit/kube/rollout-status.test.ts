import { describe, expect, it } from '@jest/globals'
import {
  daemonSetStatus,
  deploymentStatus,
  jobStatus,
  podProblem,
  statefulSetStatus
} from '@shipline/kube'

const dep = (spec: Record<string, unknown>, status: Record<string, unknown>, generation = 2) => ({
  kind: 'Deployment',
  metadata: { name: 'web', generation },
  spec: { replicas: 3, ...spec },
  status: { observedGeneration: 2, ...status }
})

describe('kubectl rollout status semantics', () => {
  it('waits until the controller observed the new generation', () => {
    expect(deploymentStatus(dep({}, { observedGeneration: 1 }))).toMatchObject({
      done: false,
      message: 'Waiting for deployment spec update to be observed'
    })
  })

  it('follows updated, old and available replicas in kubectl order', () => {
    expect(deploymentStatus(dep({}, { updatedReplicas: 1, replicas: 3 })).message).toBe(
      '1 out of 3 new replicas have been updated'
    )
    expect(deploymentStatus(dep({}, { updatedReplicas: 3, replicas: 4 })).message).toBe(
      '1 old replicas are pending termination'
    )
    expect(
      deploymentStatus(dep({}, { updatedReplicas: 3, replicas: 3, availableReplicas: 2 })).message
    ).toBe('2 of 3 updated replicas are available')
    expect(
      deploymentStatus(dep({}, { updatedReplicas: 3, replicas: 3, availableReplicas: 3 }))
    ).toEqual({ done: true, message: 'deployment "web" successfully rolled out' })
  })

  it('fails on ProgressDeadlineExceeded and on a paused Deployment', () => {
    const deadline = dep(
      {},
      {
        conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }]
      }
    )
    expect(deploymentStatus(deadline).error).toBe('deployment "web" exceeded its progress deadline')
    expect(deploymentStatus(dep({ paused: true }, {})).error).toMatch(/paused/)
  })

  it('StatefulSet: partitions, OnDelete and revisions', () => {
    const sts = (spec: Record<string, unknown>, status: Record<string, unknown>) => ({
      metadata: { generation: 1 },
      spec: { replicas: 3, ...spec },
      status: { observedGeneration: 1, readyReplicas: 3, ...status }
    })
    expect(statefulSetStatus(sts({ updateStrategy: { type: 'OnDelete' } }, {}))).toMatchObject({
      done: true,
      error: 'rollout status is only available for RollingUpdate strategy type'
    })
    const partitioned = {
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } }
    }
    expect(statefulSetStatus(sts(partitioned, { updatedReplicas: 0 })).done).toBe(false)
    expect(statefulSetStatus(sts(partitioned, { updatedReplicas: 1 })).message).toBe(
      'partitioned roll out complete: 1 new pods have been updated'
    )
    expect(statefulSetStatus(sts({}, { readyReplicas: 2 })).message).toBe(
      'Waiting for 1 pods to be ready'
    )
    expect(statefulSetStatus(sts({}, { updateRevision: 'b', currentRevision: 'a' })).done).toBe(
      false
    )
    expect(statefulSetStatus(sts({}, { updateRevision: 'b', currentRevision: 'b' })).done).toBe(
      true
    )
    expect(statefulSetStatus(sts({}, { observedGeneration: 0 })).done).toBe(false)
  })

  it('DaemonSet: updated then available pods', () => {
    const ds = (status: Record<string, unknown>) => ({
      metadata: { name: 'agent', generation: 1 },
      spec: {},
      status: { observedGeneration: 1, desiredNumberScheduled: 2, ...status }
    })
    expect(daemonSetStatus(ds({ updatedNumberScheduled: 1 })).message).toBe(
      '1 out of 2 new pods have been updated'
    )
    expect(daemonSetStatus(ds({ updatedNumberScheduled: 2, numberAvailable: 1 })).done).toBe(false)
    expect(daemonSetStatus(ds({ updatedNumberScheduled: 2, numberAvailable: 2 })).done).toBe(true)
    expect(daemonSetStatus({ ...ds({}), spec: { updateStrategy: { type: 'OnDelete' } } })).toEqual({
      done: true,
      error: 'rollout status is only available for RollingUpdate strategy type',
      message: 'updateStrategy OnDelete'
    })
  })

  it('Job: Complete is done, Failed is an error', () => {
    const job = (conditions: unknown[]) => ({
      metadata: { name: 'migrate' },
      spec: {},
      status: { conditions }
    })
    expect(jobStatus(job([])).done).toBe(false)
    expect(jobStatus(job([{ type: 'Complete', status: 'True' }])).done).toBe(true)
    expect(
      jobStatus(job([{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded' }])).error
    ).toMatch(/job "migrate" failed: BackoffLimitExceeded/)
  })

  it('reports fatal container waiting reasons with the last exit code', () => {
    const pod = (waiting: Record<string, unknown>, exitCode?: number) => ({
      metadata: { name: 'web-1' },
      status: {
        containerStatuses: [
          {
            name: 'web',
            state: { waiting },
            ...(exitCode !== undefined ? { lastState: { terminated: { exitCode } } } : {})
          }
        ]
      }
    })
    expect(podProblem(pod({ reason: 'CrashLoopBackOff', message: 'back-off' }, 1))).toEqual({
      pod: 'web-1',
      container: 'web',
      reason: 'CrashLoopBackOff',
      message: 'back-off',
      exitCode: 1
    })
    for (const reason of ['ImagePullBackOff', 'ErrImagePull', 'CreateContainerConfigError']) {
      expect(podProblem(pod({ reason }))?.reason).toBe(reason)
    }
    expect(podProblem(pod({ reason: 'ContainerCreating' }))).toBeUndefined()
  })
})
