import js from '@eslint/js';
import globals from 'globals';
import formatjs from 'eslint-plugin-formatjs';
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
    // Every UI text goes through react-intl (web/README.md, "Languages"): no literal text in
    // JSX children or in the props people read (labels, titles, placeholders, alt, aria-*);
    // every message has an English default and valid ICU. The catalogs themselves are checked
    // by scripts/check-i18n.mjs (`npm run lint` runs both).
    files: ['src/**/*.tsx', 'packages/react/src/**/*.tsx'],
    ignores: ['**/*.test.tsx'],
    plugins: { formatjs },
    rules: {
      'formatjs/no-literal-string-in-jsx': [
        'error',
        { props: { include: [['*', '{label,title,placeholder,alt,helperText,badgeContent,aria-label,aria-description,aria-valuetext}']] } },
      ],
      'formatjs/enforce-default-message': ['error', 'literal'],
      'formatjs/enforce-placeholders': 'error',
      'formatjs/no-invalid-icu': 'error',
      'formatjs/no-multiple-plurals': 'error',
      'formatjs/no-offset': 'error',
    },
  },
  {
    // The service worker is served as it is (web/public), a classic script.
    files: ['public/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2022, sourceType: 'script', globals: { ...globals.serviceworker } },
  },
  {
    files: ['*.js', '**/*.config.{js,ts}', 'packages/lib.vite.ts', 'scripts/**'],
    languageOptions: { globals: { ...globals.node } },
  },
);
