// ESLint flat config. Type-aware rules for TypeScript; a determinism ban for sim/ and impl/.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';
import boundaries from './eslint/boundaries.js';

const DETERMINISM = 'sim/ and impl/ must be deterministic: use the runtime seam (world timers / env.now())';
const RANDOMNESS = 'sim/ and impl/ must be deterministic: draw from the seeded RNG passed in by the world';
const NO_NODE =
  'sim/ and impl/ must stay host-independent (they run in browsers and under the simulator): only impl/runtime/node* may import Node builtins';

const bannedGlobals = [
  'setTimeout',
  'setInterval',
  'setImmediate',
  'clearTimeout',
  'clearInterval',
  'clearImmediate',
  'queueMicrotask',
  'performance',
  'process',
];

export default defineConfig([
  globalIgnores([
    'dist/',
    'coverage/',
    'reports/latest/',
    'reports/mutation/',
    '.stryker-tmp/', // Stryker's sandboxes (npm run mutate): copies of the repo
    'traces/',
    'corpus/',
    'fuzz/corpus/',
    'crashers/',
    'bin/netlab', // plain JS launcher
  ]),

  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },

  // Plain JS files (this config, scripts) are outside tsconfig: no type-aware linting for them.
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [tseslint.configs.disableTypeChecked],
  },

  // Determinism ban: no wall clock, host timers, ambient randomness or Node builtins in sim/ and impl/,
  // nor in the isomorphic scenario core and report model (the browser viewer runs them too).
  {
    files: [
      'sim/**/*.ts',
      'impl/**/*.ts',
      'scenarios/*.ts',
      // Stack lab folders are isomorphic too, except what drives real sockets or peer processes.
      'scenarios/*/**/*.ts',
      'reports/{schema,junit}.ts',
      // The fuzz engine and targets are pure too (seeded, clock injected); fuzz/io.ts holds the files.
      'fuzz/**/*.ts',
    ],
    ignores: [
      'impl/runtime/node*',
      'impl/runtime/node*/**',
      'sim/host-yield.ts',
      'fuzz/io.ts',
      'scenarios/real/**',
      'scenarios/campaign/**',
      'scenarios/interop/**',
      'scenarios/testing/**',
      'scenarios/*/interop/**',
      'scenarios/*/bench/**',
      'scenarios/stacks.ts',
      '**/*.test.ts',
    ],
    rules: {
      'no-restricted-globals': ['error', ...bannedGlobals.map((name) => ({ name, message: DETERMINISM }))],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: DETERMINISM },
        { object: 'performance', property: 'now', message: DETERMINISM },
        { object: 'process', property: 'hrtime', message: DETERMINISM },
        { object: 'Math', property: 'random', message: RANDOMNESS },
        { object: 'crypto', property: 'getRandomValues', message: RANDOMNESS },
        { object: 'crypto', property: 'randomUUID', message: RANDOMNESS },
        { object: 'crypto', property: 'randomBytes', message: RANDOMNESS },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date']", message: DETERMINISM },
        { selector: "CallExpression[callee.name='Date']", message: DETERMINISM },
        {
          selector: `MemberExpression[object.name='globalThis'][property.name=/^(${bannedGlobals.join('|')})$/]`,
          message: DETERMINISM,
        },
        { selector: 'ImportExpression[source.value=/^node:/]', message: NO_NODE },
      ],
      // Type-only imports are erased at compile time, so they are allowed.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: builtinModules.map((name) => ({ name, message: NO_NODE, allowTypeImports: true })),
          patterns: [{ group: ['node:*'], message: NO_NODE, allowTypeImports: true }],
        },
      ],
    },
  },

  // Layer boundaries (ARCHITECTURE.md): impl/ imports no lab code, the engine imports no stack, a
  // stack imports no other stack's lab folder. Tests and test helpers of the engine may drive a stack.
  // Independent oracles: a stack's checks, families and reference tables import no value of the
  // implementation they judge (the rule itself skips tests).
  {
    files: ['**/*.ts'],
    plugins: { netlab: boundaries },
    rules: { 'netlab/layer-boundaries': 'error', 'netlab/independent-oracles': 'error' },
  },
  {
    files: [
      '{scenarios,sim,reports,web,fuzz,bench}/**/*.test.ts',
      '{scenarios,sim,reports,web,fuzz,bench}/**/testing/**',
    ],
    rules: { 'netlab/layer-boundaries': 'off' },
  },

  // Tests may use non-null assertions and pass unbound methods to expect().
  {
    files: ['**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
]);
