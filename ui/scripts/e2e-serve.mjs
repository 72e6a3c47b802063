// End to end in a real browser against the real engine: starts
// `shoebox serve` on a fresh library, makes a photo folder from the
// repository's cc0 fixtures (plus an exact copy, a resized copy and
// generated pictures), and drives the built UI in Debian's Chromium through
// playwright-core: first run (folder + the random-weight test model from
// disk), the grid, search with chips, a photo with a tag edit, find similar,
// duplicates (resolve to a temporary trash, then keep all), settings (add and
// remove a folder), status. Screenshots go to OUT (default
// ../target/ui-e2e).
//
//   npm run build
//   SHOEBOX_BIN=../target/debug/shoebox node scripts/e2e-serve.mjs [OUT]
//
// Needs ImageMagick's `convert` for the generated photos.
import { spawn, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const repo = new URL('../../', import.meta.url).pathname;
const out = process.argv[2] ?? join(repo, 'target/ui-e2e');
const bin = process.env.SHOEBOX_BIN ?? join(repo, 'target/debug/shoebox');
const model = process.env.SHOEBOX_TEST_MODEL ?? join(repo, 'tests/fixtures/models/clip-tiny');
const dist = new URL('../dist/', import.meta.url).pathname;
if (!existsSync(bin)) throw new Error(`no shoebox binary at ${bin} (set SHOEBOX_BIN)`);
if (!existsSync(join(dist, 'index.html'))) throw new Error('build the UI first: npm run build');
mkdirSync(out, { recursive: true });

// ---- a library to look at ----------------------------------------------
const root = mkdtempSync(join(tmpdir(), 'shoebox-ui-e2e-'));
const photos = join(root, 'photos');
const more = join(root, 'more photos');
const lib = join(root, 'library');
for (const d of [join(photos, '2019'), join(photos, '2021'), more, lib]) mkdirSync(d, { recursive: true });
const cc0 = join(repo, 'tests/fixtures/cc0');
for (const f of readdirSync(cc0).filter((f) => /\.(png|jpe?g)$/i.test(f))) copyFileSync(join(cc0, f), join(photos, '2019', f));
copyFileSync(join(cc0, 'rocket.jpg'), join(photos, '2021', 'rocket copy.jpg')); // exact copy
execFileSync('convert', [join(cc0, 'chelsea.png'), '-resize', '50%', join(photos, '2021', 'chelsea-small.jpg')]); // near duplicate
for (let i = 1; i <= 6; i++) execFileSync('convert', ['-size', '640x480', '-seed', String(i), 'plasma:fractal', join(photos, '2021', `generated-${i}.jpg`)]);
copyFileSync(join(cc0, 'coffee.png'), join(more, 'coffee.png'));
// An iPhone HEIC (grid, rotated by irot), an AVIF and a JPEG XL: shown like any JPEG.
const samples = join(repo, 'tests/fixtures/formats');
for (const f of ['iphone13promax_grid_orient6.heic', 'kimono_mirror_vertical_rotate270.avif', 'bench_oriented_brg.jxl']) copyFileSync(join(samples, f), join(photos, '2021', f));

// ---- the server ---------------------------------------------------------
const env = { ...process.env, XDG_DATA_HOME: join(root, 'xdg'), HF_HUB_OFFLINE: '1', SHOEBOX_LOG: process.env.SHOEBOX_LOG ?? 'warn' };
const server = spawn(bin, ['serve', '--library', lib, '--port', '0', '--ui', dist], { env, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  server.once('exit', (c) => reject(new Error(`shoebox serve exited (${c})`)));
  server.stdout.once('data', (d) => resolve(String(d).split('\n')[0].trim()));
});
console.log(`serving ${url}`);

// ---- the walk -----------------------------------------------------------
const problems = [];
const results = [];
// Chromium's background services would only hit the closed network here.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.on('console', (m) => m.type() === 'error' && !/status of 409/.test(m.text()) && problems.push(`console: ${m.text()}`));
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
let n = 0;
const shot = (name) => page.screenshot({ path: join(out, `${String(++n).padStart(2, '0')}-${name}.png`) });
async function step(name, fn) {
  try {
    await fn();
    results.push(`ok   ${name}`);
  } catch (e) {
    results.push(`FAIL ${name}: ${String(e.message).split('\n')[0]}`);
    await shot(`FAILED-${name.replace(/\W+/g, '-')}`);
  }
}
const go = (hash) => page.evaluate((h) => (location.hash = h), hash);

await page.goto(url);
await step('first run: welcome', () => page.getByRole('heading', { name: 'Welcome to Shoebox' }).waitFor({ timeout: 10000 }));
await shot('first-run-folders');
await step('first run: add a folder', async () => {
  await page.getByLabel('Folder path').fill(photos);
  await page.getByRole('button', { name: 'Add folder' }).click();
  await page.getByTestId('folder-list').getByText(photos).waitFor({ timeout: 10000 });
  await page.getByRole('button', { name: 'Next: the model' }).click();
});
await step('first run: offline note', () => page.getByTestId('offline-note').getByText(/exact and near duplicates/).waitFor());
await shot('first-run-model');
await step('first run: model from disk', async () => {
  await page.getByLabel(/Add a model from disk/).fill(model);
  await page.getByRole('button', { name: 'Use this folder' }).click();
  await page.getByRole('button', { name: 'Start browsing' }).click({ timeout: 120000 });
});
await step('progress while indexing', async () => {
  // Either the status bar shows progress, or the work was already done.
  await page.getByTestId('status-bar').waitFor();
  const progress = page.getByTestId('status-progress');
  if (await progress.isVisible()) await shot('indexing-progress');
});
// 10 cc0 pictures + a resized copy + 6 generated + HEIC, AVIF, JPEG XL = 20
// photos (the exact copy is a second file of the rocket, not a photo of its own).
await step('grid shows every photo', async () => {
  await page.getByRole('grid', { name: 'Photo timeline' }).waitFor({ timeout: 60000 });
  await page.waitForFunction(() => document.querySelectorAll('[role="gridcell"][data-id]').length === 20, null, { timeout: 120000 });
});
await step('indexing finishes', () => page.waitForFunction(() => !document.querySelector('[data-testid="status-progress"]'), null, { timeout: 300000 }));
await page.waitForTimeout(800);
await shot('library');
await step('every thumbnail decodes in the browser (HEIC, AVIF, JPEG XL too)', async () => {
  const failed = await page.evaluate(async () => {
    const ids = [...document.querySelectorAll('[role="gridcell"][data-id]')].map((c) => c.getAttribute('data-id'));
    const widths = await Promise.all(ids.map((id) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(img.naturalWidth);
      img.onerror = () => resolve(0);
      img.src = `/thumb/${id}?size=256`;
    })));
    return ids.filter((_, i) => !widths[i]);
  });
  if (failed.length) throw new Error(`thumbnails that did not load: ${failed.join(', ')}`);
});
await step('search with chips', async () => {
  await page.keyboard.press('/');
  await page.keyboard.type('rocket launch after:2019');
  await page.getByTestId('chip').getByText(/after/).waitFor({ timeout: 20000 });
  await shot('search');
  await page.getByRole('button', { name: /Remove filter after/ }).click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="chip"]').length === 0);
  if ((await page.getByRole('searchbox').inputValue()) !== 'rocket launch') throw new Error('box text not updated');
});
await step('open a photo, keyboard', async () => {
  await go('#/library');
  await page.locator('[role="gridcell"][data-id]').first().focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.getByTestId('photo-view').waitFor();
  await page.getByText('Reveal in folder').waitFor({ timeout: 20000 });
  await page.keyboard.press('ArrowLeft');
  await page.getByRole('dialog', { name: /Photo 1 of/ }).waitFor();
});
await step('edit a tag', async () => {
  await page.getByLabel('Add a tag').fill('our red van');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByTestId('photo-tags').getByText('our red van').waitFor({ timeout: 10000 });
  await shot('photo');
  await page.getByRole('button', { name: 'Remove tag our red van' }).click();
  await page.getByTestId('photo-tags').getByText('our red van').waitFor({ state: 'detached', timeout: 10000 });
});
await step('find similar', async () => {
  await page.getByRole('button', { name: 'Find similar' }).click();
  await page.getByRole('heading', { name: /Photos like/ }).waitFor({ timeout: 20000 });
  await page.waitForFunction(() => document.querySelector('[data-testid="search-summary"], [data-testid="search-empty"], [data-testid="search-error"]'), null, { timeout: 20000 });
  await shot('similar');
});
await step('duplicates: resolve to the trash', async () => {
  await go('#/dupes/exact');
  const group = page.getByTestId('dupe-group').first();
  await group.waitFor({ timeout: 30000 });
  await shot('dupes');
  await group.getByRole('button', { name: /Move 1 to trash/ }).click();
  const preview = page.getByTestId('resolve-preview');
  await preview.getByText(/moved to the trash/).waitFor();
  await preview.getByRole('button', { name: /Move 1 to trash/ }).click();
  await page.getByText(/Moved 1 file to the trash/).waitFor({ timeout: 20000 });
  const trashed = readdirSync(join(root, 'xdg', 'Trash', 'files'));
  if (trashed.length !== 1) throw new Error(`expected 1 file in the trash, found ${trashed.length}`);
});
await step('duplicates: keep all', async () => {
  await page.getByRole('tab', { name: /Near/ }).click();
  const group = page.getByTestId('dupe-group').first();
  await group.waitFor({ timeout: 30000 });
  await group.getByRole('button', { name: 'Keep all' }).click();
  await page.getByText(/Kept all/).waitFor({ timeout: 10000 });
});
await step('settings: add and remove a folder', async () => {
  await go('#/settings');
  await page.getByLabel('Folder path').fill(more);
  await page.getByRole('button', { name: 'Add folder' }).click();
  await page.getByTestId('folder-list').getByText(more).waitFor({ timeout: 10000 });
  await shot('settings');
  await page.getByRole('button', { name: `Remove folder ${more}` }).click();
  await page.getByRole('group', { name: 'Confirm removal' }).getByRole('button', { name: 'Remove' }).click();
  await page.getByTestId('folder-list').getByText(more).waitFor({ state: 'detached', timeout: 10000 });
});
await step('status', async () => {
  await go('#/status');
  await page.getByTestId('status-counts').waitFor();
  await shot('status');
});
await step('tags', async () => {
  await go('#/tags');
  // The random-weight test model gives no automatic tags: show the whole vocabulary.
  await page.getByRole('checkbox', { name: 'Only tags in use' }).uncheck();
  await page.getByRole('tree', { name: 'Tags' }).waitFor({ timeout: 20000 });
  await shot('tags');
});

await browser.close();
server.kill();
await new Promise((r) => server.once('exit', r));
if (!process.env.KEEP) rmSync(root, { recursive: true, force: true });
console.log(results.join('\n'));
if (problems.length) console.log(`browser problems:\n${problems.join('\n')}`);
console.log(`screenshots: ${out}`);
process.exit(results.some((r) => r.startsWith('FAIL')) || problems.length ? 1 : 0);
