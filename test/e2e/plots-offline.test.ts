// `dvc plots show` opened in a real browser with the network off: on a copy of the project with a tiny
// params file, `dvc repro`, then `dvc plots show`; headless Chromium loads dvc_plots/index.html offline and
// every plot declared in dvc.yaml must have drawn (its container holds an SVG with the plot's title and
// marks with geometry). A screenshot is saved beside the project for a person to look at. The control:
// DVC's own page (vega from a CDN) draws nothing under the same offline browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { dumpDomOffline, findChromium, screenshotOffline } from '../helpers/chromium.ts';
import { copyProject, DVC_BIN, run, TINY } from '../helpers/project-copy.ts';

interface DeclaredPlot {
  path: string;
  title: string;
}

/** The plots dvc.yaml declares at top level, with their titles. */
function declaredPlots(dir: string): DeclaredPlot[] {
  const dvc = parse(readFileSync(join(dir, 'dvc.yaml'), 'utf8')) as { plots: Record<string, { title: string }>[] };
  return dvc.plots.map((entry) => {
    const [path, props] = Object.entries(entry)[0]!;
    return { path, title: props.title };
  });
}

/** The id DVC gives a plot's container (dvc_render's remove_special_chars). */
const divId = (path: string): string => path.replace(/[!@#$%^&*()[\]{};,<>?\\/:.|`~=_+ ]/g, '_');

/** The HTML of the element opened at `start` (a `<div`), up to its matching `</div>`. */
function elementAt(html: string, start: number): string {
  let depth = 0;
  const tag = /<(\/?)div\b[^>]*>/g;
  tag.lastIndex = start;
  for (let m = tag.exec(html); m; m = tag.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(start, m.index + m[0].length);
  }
  throw new Error(`unclosed <div> at ${start}`);
}

const escapeText = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Why the plot did not draw, or null when its container holds an SVG with its title and drawn marks. */
function notDrawn(dom: string, plot: DeclaredPlot): string | null {
  const start = dom.indexOf(`<div id="${divId(plot.path)}"`);
  if (start < 0) return `no container #${divId(plot.path)}`;
  const el = elementAt(dom, start);
  if (!/^<div[^>]*class="vega-embed/.test(el)) return 'vega-embed never ran on it';
  if (!/<svg[^>]*class="marks"[^>]*width="[1-9]/.test(el)) return 'no SVG with a size';
  if (!el.includes(`>${escapeText(plot.title)}</text>`)) return `no title "${plot.title}"`;
  const marks = [...el.matchAll(/class="mark-(\w+) role-mark[^"]*"[^>]*>(.*?)<\/g>/g)].filter((m) => /<path[^>]* d="M[^"]+"/.test(m[2]!));
  if (marks.length === 0) return 'no data marks with geometry';
  return null;
}

/** Path of the page `dvc plots show` printed (a file:// URL). */
function pagePath(out: string): string {
  const url = out.match(/file:\/\/\S+\.html/)?.[0];
  assert.ok(url, `dvc plots show printed its page:\n${out}`);
  return fileURLToPath(url);
}

test('dvc plots show renders every declared plot in headless Chromium with the network off', { timeout: 900_000 }, (t) => {
  if (!existsSync(DVC_BIN)) return t.skip('no .venv/bin/dvc (run npm run setup)');
  const chromium = findChromium();
  if (!chromium) {
    assert.ok(!process.env.CI, 'CI must have chromium: .ci/run installs it');
    return t.skip('no chromium on PATH (apt-get install chromium) to open dvc plots show in');
  }
  const dir = copyProject({ ...TINY, eval_every_steps: 4 }); // a few validations: the Score plot draws a line
  run(dir, 'dvc', ['repro']);
  const page = pagePath(run(dir, 'dvc', ['plots', 'show']));
  assert.equal(page, join(dir, 'dvc_plots', 'index.html'), 'the default output folder');

  const plots = declaredPlots(dir);
  assert.ok(plots.length >= 4, `dvc.yaml declares the plots (${plots.map((p) => p.path).join(', ')})`);
  const dom = dumpDomOffline(chromium, page);
  const failures = plots.map((p) => [p.path, notDrawn(dom, p)] as const).filter(([, why]) => why !== null);
  assert.deepEqual(failures, [], 'every declared plot drew');
  const body = dom.match(/<body[^>]*>/)?.[0] ?? '';
  assert.match(body, /data-plots="drawn"/, `the page reports every plot drawn: ${body}`);
  assert.match(body, new RegExp(`data-plots-count="${plots.length}"`));

  const png = join(dirname(dir), 'dvc-plots.png');
  screenshotOffline(chromium, page, png);
  const bytes = readFileSync(png);
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG');
  assert.ok(statSync(png).size > 20_000, `a screenshot with content (${statSync(png).size} bytes)`);
  t.diagnostic(`screenshot of dvc plots show, offline: ${png}`);
  process.stderr.write(`[plots-offline] screenshot: ${png}\n`);

  // the control: DVC's default page loads vega from a CDN, so under the same offline browser nothing draws
  run(dir, 'dvc', ['config', '--unset', 'plots.html_template']);
  const cdnPage = pagePath(run(dir, 'dvc', ['plots', 'show', '-o', 'cdn_plots']));
  assert.match(readFileSync(cdnPage, 'utf8'), /cdn\.jsdelivr\.net\/npm\/vega@/, 'DVC\'s own page loads vega from a CDN');
  const cdnDom = dumpDomOffline(chromium, cdnPage);
  for (const p of plots) assert.ok(notDrawn(cdnDom, p) !== null, `${p.path} does not draw offline from the CDN page`);
});
