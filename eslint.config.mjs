import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import prettier from 'eslint-config-prettier/flat'
import jest from 'eslint-plugin-jest'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', '.tmp/**'] },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            '*.mjs',
            '.github/scripts/*.mjs',
            'examples/*.mjs',
            '.ci/*.mjs',
            'bench/*.ts',
            'bench/lib/*.ts'
          ],
          // bench/ has one module per target (issue 15) plus helpers: more than the default 8 files.
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 40
        },
        tsconfigRootDir: import.meta.dirname
      }
    },
    rules: { 'no-console': 'error' }
  },
  { files: ['**/*.mjs'], extends: [tseslint.configs.disableTypeChecked] },
  { files: ['packages/sim/**', 'bench/**', '**/*.mjs'], rules: { 'no-console': 'off' } },
  { files: ['test/**/*.ts'], extends: [jest.configs['flat/recommended']] },
  prettier
)
