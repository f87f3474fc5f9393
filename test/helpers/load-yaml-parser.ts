// Unit tests call synchronous parsers directly; the bundled actions load the YAML parser on demand
// (packages/action-kit/src/yaml.ts), and the e2e and dist tests cover that path.
import { loadYamlParser } from '@shipline/action-kit'

await loadYamlParser()
