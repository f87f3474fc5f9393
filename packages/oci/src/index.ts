export * from './docker-cli.js'
export * from './docker-metadata.js'
export * from './image-reference.js'
export * from './registry-client.js'
