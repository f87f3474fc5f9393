import { requiredInput } from '@shipline/action-kit'

export const INPUT_NAMES = ['repository'] as const
export const DEFAULTS = {} as const

export function getInputs(): { value: string } {
  return { value: requiredInput('repository') }
}
