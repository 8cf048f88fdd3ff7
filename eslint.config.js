import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

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
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "BinaryExpression[left.property.name='kind'][right.value=/^(pglite|postgres)$/]",
          message: 'Backend branches belong in src/db: add what differs to the Queryable interface there.',
        },
      ],
    },
  },
);
