// Unit tests call synchronous parsers directly; the bundled actions load them on demand
// (packages/action-kit/src/parsers.ts), and the e2e and dist tests cover that path.
import { loadParser } from '@shipline/action-kit'

await loadParser('yaml')
await loadParser('jsonc-parser')
