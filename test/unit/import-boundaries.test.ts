import path from 'node:path';
import { spawnSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..');
const ESLINT = path.join(ROOT, 'node_modules', '.bin', 'eslint');

interface LintResult {
  filePath: string;
  messages: Array<{ message: string }>;
}

/** The real eslint with the project's own eslint.config.mjs, as `npm test` runs it (its config loader needs a plain Node process). */
function eslint(args: string[], stdin?: string): LintResult[] {
  const r = spawnSync(ESLINT, ['--format', 'json', ...args], { cwd: ROOT, input: stdin, encoding: 'utf8' });
  return JSON.parse(r.stdout) as LintResult[];
}

/** Lints `code` as if it were the file at `file`. */
function problems(file: string, code: string): string[] {
  return eslint(['--stdin', '--stdin-filename', file], code)[0]!.messages.map((m) => m.message);
}

describe('import boundaries (eslint.config.mjs, run by npm test)', () => {
  it.each([
    ["import { findNotice } from './repo';", 'only services use repositories'],
    ["import { countAddresses } from './addresses/repo';", 'only services use repositories'],
    ["import { insertRow } from './send-queue-repo';", 'only services use repositories'],
    ["import knex from 'knex';", 'only repositories use knex'],
    ["import pg from 'pg';", 'only repositories use the database'],
    ["import { createKnex } from '../../db';", 'only repositories use the database'],
  ])('a route file importing `%s` fails the build', (line, message) => {
    expect(problems('src/features/notice/routes.ts', `${line}\nexport const x = 1;\n`)).toEqual([expect.stringContaining(message)]);
  });

  it('a route may import types from a repository and its own service', () => {
    expect(problems('src/features/notice/routes.ts', "import type { Knex } from 'knex';\nimport type { NoticeRow } from './repo';\nimport { listAllNotices } from './service';\n")).toEqual([]);
  });

  it('a feature importing another feature fails the build', () => {
    expect(problems('src/features/export/service.ts', "import { backupNow } from '../backups/service';\n")).toEqual([expect.stringContaining('Features never import each other')]);
    expect(problems('src/features/campaigns/addresses/service.ts', "import { x } from '../../notice/model';\n")).toEqual([expect.stringContaining('Features never import each other')]);
    expect(problems('src/features/campaigns/addresses/service.ts', "import { x } from '../repo';\n")).toEqual([]);
  });
});
