import { listInput, requiredInput } from '@shipline/action-kit'

export const INPUT_NAMES = ['cluster-name', 'manifests', 'images'] as const
export const DEFAULTS = {} as const

export interface DeployEksManifestInputs {
  clusterName: string
  manifests: string[]
  images: string[]
}

export function getInputs(): DeployEksManifestInputs {
  const clusterName = requiredInput('cluster-name')
  requiredInput('manifests')
  return {
    clusterName,
    manifests: listInput('manifests', { commas: false }),
    images: listInput('images', { commas: false })
  }
}
