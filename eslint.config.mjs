// Import boundaries, checked on every `npm test` (the only rules here: tsc does the type checking).
//   routes -> service -> repository: route files never import a repository, knex, pg or src/db.
//   features never import each other: each feature folder may import shared infrastructure, not a sibling.
import fs from 'node:fs';
import tseslint from 'typescript-eslint';

const features = fs.readdirSync('src/features', { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
const ROUTE_FILES = ['src/**/routes.ts', 'src/**/*-routes.ts', 'src/**/routes/*.ts'];

const routePatterns = [
  { regex: '(^|/)([a-z-]+-)?repo$', message: 'Routes call services; only services use repositories.', allowTypeImports: true },
  { regex: '(^|/)db(/index)?$', message: 'Routes call services; only repositories use the database.' },
];
const routePaths = [
  { name: 'knex', allowTypeImports: true, message: 'Routes call services; only repositories use knex.' },
  { name: 'pg', message: 'Routes call services; only repositories use the database.' },
];

const otherFeatures = (own) => ({
  regex: `^(\\.\\./)+(${features.filter((f) => f !== own).join('|')})(/|$)`,
  message: 'Features never import each other: share through src/ infrastructure or the Feature contract.',
});

export default [
  { ignores: ['node_modules/**', 'dist/**', 'var/**', 'test/artifacts/**'] },
  {
    files: ['src/**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { sourceType: 'module' } },
    // Known so that the code's existing eslint-disable comments for them resolve; not enforced here.
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
  },
  ...features.map((own) => ({
    files: [`src/features/${own}/**/*.ts`],
    ignores: ROUTE_FILES,
    rules: { 'no-restricted-imports': ['error', { patterns: [otherFeatures(own)] }] },
  })),
  ...features.map((own) => ({
    files: ROUTE_FILES.map((g) => g.replace('src/**', `src/features/${own}/**`)),
    rules: { 'no-restricted-imports': ['error', { paths: routePaths, patterns: [...routePatterns, otherFeatures(own)] }] },
  })),
  {
    files: ROUTE_FILES.map((g) => g.replace('src/**', 'src/{admin,auth,pages,http,mail}')),
    rules: { 'no-restricted-imports': ['error', { paths: routePaths, patterns: routePatterns }] },
  },
];
