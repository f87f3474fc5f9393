import { requiredInput } from '@shipline/action-kit'

export const INPUT_NAMES = ['task-definition', 'cluster', 'service'] as const
export const DEFAULTS = {} as const

export interface DeployEcsInputs {
  taskDefinitionPath: string
  cluster: string
  service: string
}

export function getInputs(): DeployEcsInputs {
  return {
    taskDefinitionPath: requiredInput('task-definition'),
    cluster: requiredInput('cluster'),
    service: requiredInput('service')
  }
}
