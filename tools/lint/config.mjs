// The project's ESLint flat config. It lives here, beside its own package.json, so that `eslint`, `typescript-eslint`
// and TypeScript 6 resolve from tools/lint/node_modules (the project builds with TypeScript 7, which has no JS API);
// the root eslint.config.mjs only re-exports it, so file patterns below are relative to the repository root.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The dashboard's browser script, served as is. */
const dashboard = 'apps/gateway/src/dashboard/public/**/*.js';
/** The TypeScript sources that tsconfig.json covers: the ones linted with type information. */
const typed = ['{apps,libs,test,bench}/**/*.ts'];

export default defineConfig(
  globalIgnores([
    '**/node_modules/',
    'dist/',
    'data/',
    '.cache/',
    'test-artifacts/',
    'bench/results/',
    'tools/',
    'k8s/',
    'docs/',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    name: 'sync-hub/node',
    files: ['**/*.{ts,js,mjs,cjs}'],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused: interface-shaped handler arguments, destructured leftovers.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // Nest wires services by constructor parameter properties, so `constructor(private readonly x: X) {}` is
      // the norm; keep the base rules that would flag empty bodies or "useless" constructors off.
      'no-empty-function': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      'no-useless-constructor': 'off',
    },
  },

  // Type-aware rules: typescript-eslint's recommended-type-checked set on the TypeScript sources, which TypeScript 6
  // reads through the project's own tsconfig.json (the project service). It costs about one type-check of the tree.
  ...tseslint.configs.recommendedTypeCheckedOnly.map((config) => ({ ...config, files: typed })),
  {
    name: 'sync-hub/type-aware',
    files: typed,
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: root },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it/test/suite return promises that the runner itself awaits and reports.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      // Nest lifecycle hooks, interface implementations and handlers are `async` for their signature, not because
      // each awaits something; the rule would ask to drop `async` and return Promise.resolve() by hand.
      '@typescript-eslint/require-await': 'off',
      // Topics, statuses and kinds arrive from Kafka and the database as plain strings; comparing them with the
      // string enums of libs/contracts is the intended use, not a mistake.
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
    },
  },

  // Tests read HTTP and Kafka JSON as `any` and assert on it; the no-unsafe-* family would ask for a type on every
  // response body. Source code keeps it: there an `any` that flows on is a real hole.
  {
    name: 'sync-hub/tests',
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },

  // Hosts (the CLI, the embedded host, the benchmarks, the tests) use an app only through its src/index.ts, and no app
  // imports another: an app's internals can then change without breaking them.
  {
    name: 'sync-hub/app-boundaries',
    files: ['apps/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'libs/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(apps/)?(gateway|scheduler|splynx-sync|accounting-sync|crm-sync|usage-sync|cli|embedded)/src/.+',
              message: "Import an app only through its index.ts (e.g. '../../gateway/src'), never its internals.",
            },
          ],
        },
      ],
    },
  },

  {
    name: 'sync-hub/node-globals',
    files: ['**/*.{ts,js,mjs,cjs}'],
    ignores: [dashboard],
    languageOptions: { globals: { ...globals.node } },
  },

  // The build and test-runner scripts are CommonJS run directly by node.
  {
    name: 'sync-hub/scripts',
    files: ['scripts/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },

  // The dashboard's script runs in the browser, as a classic script (an IIFE, no modules).
  {
    name: 'sync-hub/dashboard',
    files: [dashboard],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser } },
  },
);
