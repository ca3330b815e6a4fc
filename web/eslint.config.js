import js from '@eslint/js';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist', 'packages/*/dist', 'node_modules', 'coverage'] },
  {
    files: ['**/*.{ts,tsx}'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['warn', 'error', 'debug', 'info'] }],
    },
  },
  {
    // The demo and @omw-chat/react use the packages by name, through the workspace, as an app
    // that installed them would (a relative path into another package would not be packed).
    files: ['src/**/*.{ts,tsx}', 'packages/react/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/packages/**', '**/client/src', '**/client/src/**', '**/react/src', '**/react/src/**', '../sdk', '../components'],
              message: 'import @omw-chat/client or @omw-chat/react by name',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['*.js', '**/*.config.{js,ts}', 'packages/lib.vite.ts', 'scripts/**'],
    languageOptions: { globals: { ...globals.node } },
  },
);
