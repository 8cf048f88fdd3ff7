import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const BACKEND_BRANCH = {
  selector: "BinaryExpression[left.property.name='kind'][right.value=/^(pglite|postgres)$/]",
  message: 'Backend branches belong in src/db: add what differs to the Queryable interface there.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'cradle-demo/**', '.cradle/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // PGlite and PostgreSQL differ only inside src/db (DESIGN: backend differences live there).
    files: ['src/**/*.ts'],
    ignores: ['src/db/**'],
    rules: { 'no-restricted-syntax': ['error', BACKEND_BRANCH] },
  },
  {
    // Options are typed by an interface per command and by their parsers (src/cli/args.ts), never cast.
    // This entry replaces the one above for src/cli, hence BACKEND_BRANCH again.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        BACKEND_BRANCH,
        {
          selector: "CallExpression[callee.property.name=/^(opts|optsWithGlobals)$/]:not([typeArguments])",
          message: "Type the command's options: globals<Options>(cmd) or action<Options>(…), with an interface for them.",
        },
        {
          selector: ':matches(TSAsExpression, TSTypeAssertion)[expression.type="MemberExpression"][expression.object.name=/^(opts|o)$/]',
          message: "Option values are typed by the command's options interface and their parsers (src/cli/args.ts): no casts.",
        },
      ],
    },
  },
);
