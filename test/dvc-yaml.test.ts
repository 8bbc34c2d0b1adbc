// dvc.yaml is the contract DVC caches by: a stage must declare every file it imports (or DVC would
// not rerun it when that file changes), no code it does not import, and exactly the params its main.ts loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('..', import.meta.url));
const dvc = parse(readFileSync(join(root, 'dvc.yaml'), 'utf8')) as { stages: Record<string, { cmd: string; deps?: string[]; params?: string[] }> };

/** Local files reachable from `entry` through relative imports (and files read beside a module: `new URL('./x', import.meta.url)`). */
function importClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!file.endsWith('.ts')) return;
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+\.(?:ts|json))'|new URL\('(\.{1,2}\/[^']+\.[a-z]+)', import\.meta\.url\)/g)) {
      visit(normalize(join(dirname(file), (m[1] ?? m[2])!)));
    }
  };
  visit(entry);
  return [...seen].sort();
}

/** Every file under `dir`, relative to the repo root. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function loadedParams(mainFile: string): string[] {
  const text = readFileSync(join(root, mainFile), 'utf8');
  const m = text.match(/loadParams\(\[([^\]]*)\]/);
  assert.ok(m, `${mainFile} calls loadParams([...])`);
  return [...m[1]!.matchAll(/'([a-z0-9_]+)'/g)].map((x) => x[1]!).sort();
}

const under = (file: string, dep: string): boolean => file === dep || file.startsWith(dep.endsWith('/') ? dep : dep + '/');

/**
 * Fails naming the first file of `name`'s import closure that no dep covers, any import of another stage,
 * and any code dep (under core/ or stages/) that holds no file of the closure (a stale dep reruns the stage
 * for nothing).
 */
function assertDepsCover(name: string, deps: string[]): void {
  const closure = importClosure(`stages/${name}/main.ts`);
  for (const file of closure) {
    assert.ok(deps.some((d) => under(file, d)), `${name} imports ${relative('.', file)} but its deps do not list it`);
    assert.ok(!file.startsWith('stages/') || file.startsWith(`stages/${name}/`), `${name} imports ${file}, another stage's code (shared code lives in core/)`);
  }
  for (const d of deps.filter((dep) => dep.startsWith('core/') || dep.startsWith('stages/'))) {
    assert.ok(closure.some((file) => under(file, d)), `${name} lists ${d} in its deps but imports nothing there`);
  }
}

for (const [name, stage] of Object.entries(dvc.stages)) {
  test(`dvc.yaml stage ${name}: deps cover its imports, params match what it loads`, () => {
    const main = `stages/${name}/main.ts`;
    assert.ok(stage.cmd.includes(main), `cmd runs ${main}`);
    const deps = (stage.deps ?? []).map((d) => normalize(d));
    assertDepsCover(name, deps);
    for (const d of deps) {
      if (d.startsWith('data/') || d.startsWith('models/') || d.includes('${')) continue;
      assert.ok(existsSync(join(root, d)), `${name} dep ${d} exists`);
    }
    assert.deepEqual([...(stage.params ?? [])].sort(), loadedParams(main));
  });
}

test("README's import recipe (dvc stage add): its -d deps cover the import stage's imports", () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const recipe = readme.match(/<!-- import-stage-recipe[^>]*-->\s*```sh\n([\s\S]*?)```/)?.[1];
  assert.ok(recipe, 'README has the import-stage-recipe block');
  const deps = [...recipe.matchAll(/-d (\S+)/g)].map((m) => normalize(m[1]!));
  for (const d of deps) if (!d.startsWith('data/')) assert.ok(existsSync(join(root, d)), `recipe dep ${d} exists`);
  assertDepsCover('import', deps);
});

test('core/ holds only folders, and only code some stage runs (test and bench helpers live in test/helpers/)', () => {
  const topLevel = readdirSync(join(root, 'core'), { withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => e.name);
  assert.deepEqual(topLevel, [], 'no file at the top level of core/: each belongs to the folder of its layer');
  const stages = readdirSync(join(root, 'stages')).filter((s) => existsSync(join(root, 'stages', s, 'main.ts')));
  const used = new Set(stages.flatMap((s) => importClosure(`stages/${s}/main.ts`)));
  const unused = filesUnder('core').filter((f) => !used.has(f));
  assert.deepEqual(unused, [], 'every file under core/ is run by some stage (a test-only file there would rerun stages when it changes)');
});
