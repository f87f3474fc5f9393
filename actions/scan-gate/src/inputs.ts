import { requiredInput } from '@shipline/action-kit'

export const INPUT_NAMES = ['image'] as const
export const DEFAULTS = {} as const

export function getInputs(): { value: string } {
  return { value: requiredInput('image') }
}
