import { describe, expect, it } from '@jest/globals'
import type { Task } from '@aws-sdk/client-ecs'
import {
  describeGroups,
  groupStoppedTasks,
  hintFor,
  isUnableEvent,
  reasonKey,
  stoppedByFailure
} from '../../../../packages/ecs/src/deploy/diagnose.js'

const task = (id: string, reason: string, extra: Partial<Task> = {}): Task => ({
  taskArn: `arn:aws:ecs:us-east-1:123456789012:task/main/${id}`,
  lastStatus: 'STOPPED',
  stoppedReason: reason,
  ...extra
})

describe('groupStoppedTasks', () => {
  it('groups equal causes across tasks, with exit codes, largest group first', () => {
    const pull = (id: string): Task =>
      task(
        id,
        `CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:${'a'.repeat(64)}: not found`
      )
    const groups = groupStoppedTasks([
      task('1'.repeat(32), 'Essential container in task exited', {
        stopCode: 'EssentialContainerExited',
        containers: [{ name: 'web', exitCode: 3 }]
      }),
      pull('2'.repeat(32)),
      pull('3'.repeat(32))
    ])
    expect(groups.map((g) => g.count)).toEqual([2, 1])
    expect(groups[0]?.reason).toContain('<digest>')
    expect(groups[0]?.hint).toMatch(/ecr:BatchGetImage/)
    expect(groups[1]?.containers).toEqual(['web exited 3'])
    expect(describeGroups(groups)).toMatch(/2 task\(s\) stopped: CannotPullContainerError/)
  })

  it('leaves out tasks stopped on purpose (scale-in, user stops), but not health-check failures', () => {
    expect(
      stoppedByFailure(
        task('a', 'Scaling activity initiated by (deployment ecs-svc/1)', {
          stopCode: 'ServiceSchedulerInitiated'
        })
      )
    ).toBe(false)
    expect(stoppedByFailure(task('b', 'Task stopped by user', { stopCode: 'UserInitiated' }))).toBe(
      false
    )
    expect(
      stoppedByFailure(
        task('c', 'Task failed ELB health checks in (target-group arn:aws:...)', {
          stopCode: 'ServiceSchedulerInitiated'
        })
      )
    ).toBe(true)
  })
})

describe('hints', () => {
  it('names the cause users meet most', () => {
    expect(hintFor('ResourceInitializationError: unable to pull secrets', [])).toMatch(
      /secretsmanager:GetSecretValue/
    )
    expect(hintFor('Task failed ELB health checks', [])).toMatch(/target group port/)
    expect(hintFor('OutOfMemoryError: Container killed due to memory usage', [])).toMatch(/memory/)
    expect(hintFor('something new', [])).toBeUndefined()
  })

  it('recognises the events that mean ECS cannot place or start tasks', () => {
    expect(
      isUnableEvent(
        '(service web) was unable to place a task because no container instance met all of its requirements.'
      )
    ).toBe(true)
    expect(isUnableEvent('(service web) is unable to consistently start tasks successfully.')).toBe(
      true
    )
    expect(isUnableEvent('(service web) has reached a steady state.')).toBe(false)
  })

  it('strips ids and ARNs from reasons', () => {
    expect(reasonKey(`task ${'f'.repeat(32)} in arn:aws:ecs:us-east-1:1:task/x stopped`)).toBe(
      'task <id> in <arn> stopped'
    )
  })
})
