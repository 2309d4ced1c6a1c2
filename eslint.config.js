import js from '@eslint/js';
import pluginVue from 'eslint-plugin-vue';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // The tablet page (web/): Vue's error rules; <script setup lang="ts"> parsed by typescript-eslint.
  ...pluginVue.configs['flat/essential'],
  {
    files: ['web/**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
    // Names are checked by vue-tsc (npm run typecheck), which knows the browser's globals.
    rules: { 'no-undef': 'off' },
  },
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', Buffer: 'readonly', URL: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Tests and the REST layer read untyped JSON; `any` there is honest.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The code every device message runs through. In Node 20 a literal that starts by spreading a freshly built object
    // and goes on (`{ ...base, at }`) costs 0.5-1.9 µs against ~20 ns spelled out: a fifth of the hub's CPU per
    // message once (BENCHMARKS.md, issue 12 part 11). A spread later in the literal, or alone, is fast.
    files: [
      'src/signals/**/*.ts',
      'src/contracts/**/*.ts',
      'src/broker/**/*.ts',
      'src/devices/**/*.ts',
      'src/analytics/branch-analytics.ts',
      'src/analytics/tracks.ts',
      'src/flows/flow-host.ts',
      'src/branch/branch-flows.ts',
      'src/persistence/{group-commit,row-statements,sql-script,batch}.ts',
      'src/hub-events.ts',
      'src/keyed-queue.ts',
    ],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ObjectExpression > SpreadElement:first-child:not(:last-child)', message: 'On the per-message path, spell the fields out or put the spread later: `{ ...x, more }` is slow in Node 20 (eslint.config.js).' },
      ],
    },
  },
);
