// Type-aware linting (typescript-eslint's recommended-type-checked) of every TypeScript file; formatting
// is Prettier's job, unused files, exports and dependencies are knip's.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', '**/node_modules/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `const { a, ...rest } = x` is how a field is left out of a copy.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      // A `let` a closure reads before its one assignment (a callback set up first) cannot be `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests read untyped JSON answers field by field, implement async interfaces with fakes that need no
    // await, and pass mocked methods to expect(); the type-checked rules against those patterns only add
    // casts there. Everything else applies to tests as to the code.
    files: ['**/test/**/*.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Synchronous implementations of async interfaces (node:sqlite statements, local signing): `async` is
    // what turns a throw into the rejected promise callers handle, so these need no await.
    files: ['packages/registry/src/store/sqlite/**/*.ts', 'packages/core/src/signing/signer.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    // Build scripts and launchers are plain JavaScript outside the TypeScript project.
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
);
