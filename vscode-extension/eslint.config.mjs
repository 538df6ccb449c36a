// ESLint for the extension: typescript-eslint's type-aware recommended rules on
// src/, the JavaScript recommended rules on the Node tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = {
    require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', console: 'readonly',
    __dirname: 'readonly', __filename: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly',
    setImmediate: 'readonly', Buffer: 'readonly', URL: 'readonly',
};

export default tseslint.config(
    { ignores: ['dist/**', 'out/**', 'node_modules/**', 'bundled/**', '*.vsix'] },
    {
        files: ['src/**/*.ts'],
        extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    },
    {
        files: ['test/**/*.js', 'e2e/**/*.js'],
        extends: [js.configs.recommended],
        languageOptions: { sourceType: 'commonjs', globals: nodeGlobals },
    },
    {
        files: ['scripts/**/*.mjs'],
        extends: [js.configs.recommended],
        languageOptions: { sourceType: 'module', globals: nodeGlobals },
    },
    {
        // page.evaluate() callbacks run in the browser
        files: ['e2e/**/*.js'],
        languageOptions: { globals: { document: 'readonly' } },
    },
);
