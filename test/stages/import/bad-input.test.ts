// Bad input: each case stops the import with one `file:line: what is wrong` error and leaves no
// output folder (nor a temp folder beside it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/stage-runner.ts';
import { inputFolder, runImport } from './import-fixture.ts';

interface Case {
  name: string;
  files: Record<string, string>;
  input: string;
  flags?: Parameters<typeof runImport>[2];
  error: RegExp;
}

const CASES: Case[] = [
  { name: 'missing item column', files: { 'a.csv': 'user_id,product,ts\n1,2,3\n' }, input: 'a.csv', error: /a\.csv:1: no item column \(looked for item_id, itemid.*name it with --item COL; columns: user_id, product, ts\)/ },
  { name: 'a column named by a flag that is absent', files: { 'a.csv': 'user_id,item_id\n1,2\n' }, input: 'a.csv', flags: { roles: { time: 'when' } }, error: /a\.csv:1: --time "when": no such column/ },
  { name: 'unparsable timestamp', files: { 'a.csv': 'user_id,item_id,timestamp\n1,2,100\n1,3,yesterday\n' }, input: 'a.csv', error: /a\.csv:3: timestamp: cannot read "yesterday" as a time/ },
  { name: 'empty file', files: { 'a.csv': '' }, input: 'a.csv', error: /a\.csv: empty file \(no header row\)/ },
  { name: 'header-only file', files: { 'a.csv': 'user_id,item_id\n' }, input: 'a.csv', error: /a\.csv:1: header only: no interaction rows/ },
  {
    name: 'a user with no events (in the .user file)',
    files: { 'x.inter': 'user_id:token\titem_id:token\n1\t2\n', 'x.user': 'user_id:token\tage:token\n1\t20\n9\t30\n' },
    input: 'x.inter',
    error: /x\.user:3: user "9" has no events in .*x\.inter/,
  },
  { name: 'duplicate header names', files: { 'a.csv': 'user_id,item_id,user_id\n1,2,3\n' }, input: 'a.csv', error: /a\.csv:1: duplicate column name "user_id" \(columns 1 and 3\)/ },
  { name: 'a row with the wrong field count', files: { 'a.csv': 'user_id,item_id\n1,2\n1,2,3\n' }, input: 'a.csv', error: /a\.csv:3: 3 field\(s\), but the header has 2/ },
  { name: 'an empty item id', files: { 'a.csv': 'user_id,item_id\n1,\n' }, input: 'a.csv', error: /a\.csv:2: empty item_id/ },
  { name: 'an unterminated quote', files: { 'a.csv': 'user_id,item_id\n1,2\n2,"3\n' }, input: 'a.csv', error: /a\.csv:3: unterminated quoted field/ },
  { name: 'an action value that is not 0/1/2', files: { 'a.csv': 'user_id,item_id,action\n1,2,view\n' }, input: 'a.csv', error: /a\.csv:2: action = "view" is not 0, 1 or 2 \(map it with --action-map/ },
  { name: 'a row no --action-map rule matches', files: { 'a.csv': 'user_id,item_id,rating\n1,2,5\n1,3,2\n' }, input: 'a.csv', flags: { actionMap: 'rating>=4:1' }, error: /a\.csv:3: no --action-map rule matches this row/ },
  { name: 'an --action-map value that is not an action', files: { 'a.csv': 'user_id,item_id,rating\n1,2,5\n' }, input: 'a.csv', flags: { actionMap: 'rating>=4:click' }, error: /--action-map: rule "rating>=4:click": value must be 0, 1, 2 or drop/ },
];

for (const c of CASES) {
  test(`bad input: ${c.name} → one error, nothing written`, async () => {
    const dir = inputFolder(c.files);
    const out = join(dir, 'raw');
    await assert.rejects(runImport(join(dir, c.input), out, c.flags), (e: Error) => {
      assert.match(e.message, c.error);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    });
    assert.ok(!existsSync(out), 'no output folder');
    assert.deepEqual(readdirSync(dir).sort(), Object.keys(c.files).sort(), 'no temp folder left');
  });
}

test('the stage CLI prints the error as one line and exits 1; --help lists the spellings', () => {
  const dir = inputFolder({ 'a.csv': 'user_id,item_id,timestamp\n1,2,soon\n' });
  const main = join(ROOT, 'stages/import/main.ts');
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, join(dir, 'a.csv'), join(dir, 'raw')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^\[import\] error: .*a\.csv:2: timestamp: cannot read "soon" as a time.*\n$/);
  assert.ok(!existsSync(join(dir, 'raw')));
  const help = spawnSync(process.execPath, ['--import', 'tsx', main, '--help'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const s of ['--user COL', '--action-map', 'movieid', 'userid', 'timestamp', 'rating']) assert.ok(help.stdout.includes(s), `--help mentions ${s}`);
  const unknown = spawnSync(process.execPath, ['--import', 'tsx', main, 'a', 'b', '--users', 'x'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /unknown flag --users/);
});
