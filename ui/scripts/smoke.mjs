// Drives the built UI in a real Chromium (Debian's /usr/bin/chromium, via
// playwright-core; never `npx playwright install`) against the mock server:
// checks that nothing violates the CSP, walks every screen, measures grid
// scrolling over 100k photos, and saves screenshots (light and dark).
//
//   npm run build && node scripts/smoke.mjs [outDir]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const out = process.argv[2] ?? 'screenshots';
mkdirSync(out, { recursive: true });
const exe = process.env.CHROMIUM ?? '/usr/bin/chromium';

// Real JPEG thumbnails from the repository's cc0 fixtures (ImageMagick), so
// scrolling is measured with JPEG decoding as in the app; SVGs otherwise.
const fixtures = new URL('../../tests/fixtures/cc0/', import.meta.url).pathname;
let thumbs = process.env.MOCK_THUMBS;
if (!thumbs && existsSync(fixtures)) {
  thumbs = '/tmp/shoebox-mock-thumbs';
  mkdirSync(thumbs, { recursive: true });
  try {
    for (const f of readdirSync(fixtures).filter((f) => /\.(png|jpe?g)$/i.test(f))) {
      execFileSync('convert', [`${fixtures}${f}`, '-resize', '256x256^', '-quality', '85', `${thumbs}/${f.replace(/\.\w+$/, '.jpg')}`]);
    }
  } catch {
    thumbs = undefined;
  }
}
if (thumbs) process.env.MOCK_THUMBS = thumbs;

function startMock(port, env = {}) {
  const p = spawn(process.execPath, [new URL('./mock-server.mjs', import.meta.url).pathname, String(port)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => p.stdout.once('data', (d) => resolve({ url: String(d).trim(), proc: p })));
}

const problems = [];
const browser = await chromium.launch({ executablePath: exe, args: ['--no-sandbox'] });

async function session(url, colorScheme, fn) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme });
  const page = await ctx.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 409/.test(m.text())) problems.push(`[${colorScheme}] console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`[${colorScheme}] page error: ${e.message}`));
  page.on('request', (r) => {
    if (!r.url().startsWith(new URL(url).origin) && !r.url().startsWith('data:')) problems.push(`remote request: ${r.url()}`);
  });
  await page.goto(url);
  await fn(page);
  await ctx.close();
}

const shot = (page, name) => page.screenshot({ path: `${out}/${name}.png` });

const main = await startMock(8811);
const timings = {};
for (const scheme of ['light', 'dark']) {
  await session(main.url, scheme, async (page) => {
    await page.getByRole('grid', { name: 'Photo timeline' }).waitFor();
    await page.waitForTimeout(500);
    await shot(page, `library-${scheme}`);
    if (scheme === 'light') {
      // Scroll through 100k photos, one viewport per frame, and time the frames.
      const r = await page.evaluate(async () => {
        const el = document.querySelector('[data-testid="timeline"]');
        const frames = [];
        let last = performance.now();
        for (let i = 0; i < 240; i++) {
          el.scrollTop += 700;
          await new Promise((res) => requestAnimationFrame(res));
          const now = performance.now();
          frames.push(now - last);
          last = now;
        }
        frames.sort((a, b) => a - b);
        return {
          height: el.scrollHeight,
          cells: el.querySelectorAll('[role="gridcell"]').length,
          nodes: el.querySelectorAll('*').length,
          p50: frames[120],
          p95: frames[Math.floor(frames.length * 0.95)],
          max: frames.at(-1),
        };
      });
      timings.scroll = r;
      await page.waitForTimeout(400);
      await shot(page, 'library-scrolled');
      // Keyboard: focus a photo, move, open, navigate, close.
      await page.locator('[role="gridcell"]').first().focus();
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('Enter');
      await page.getByTestId('photo-view').waitFor();
      await page.waitForTimeout(300);
      await shot(page, 'photo-view');
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('Escape');
    }
    // Search with chips.
    await page.keyboard.press('/');
    await page.keyboard.type('dog on the beach after:2019 tag:beach');
    await page.getByTestId('chip').first().waitFor();
    await page.waitForTimeout(400);
    await page.locator('[data-testid="search-results"] [role="gridcell"]').first().hover();
    await shot(page, `search-${scheme}`);
    for (const [hash, name] of [['#/tags/dog', 'tags'], ['#/dupes/near', 'dupes'], ['#/status', 'status'], ['#/settings', 'settings']]) {
      await page.evaluate((h) => (location.hash = h), hash);
      await page.waitForTimeout(600);
      await shot(page, `${name}-${scheme}`);
    }
    if (scheme === 'light') {
      await page.evaluate(() => (location.hash = '#/dupes/near'));
      await page.getByRole('button', { name: /Move 1 to trash/ }).first().click();
      await page.getByTestId('resolve-preview').waitFor();
      await shot(page, 'dupes-preview');
    }
  });
}
main.proc.kill();

const fresh = await startMock(8812, { MOCK_FIRST_RUN: '1', MOCK_PHOTOS: '500' });
await session(fresh.url, 'light', async (page) => {
  await page.getByRole('heading', { name: 'Welcome to Shoebox' }).waitFor();
  await page.getByLabel('Folder path').fill('/home/me/Pictures');
  await page.getByRole('button', { name: 'Add folder' }).click();
  await page.getByRole('button', { name: 'Next: the model' }).click();
  await page.getByRole('button', { name: /Download/ }).first().click();
  await page.getByRole('progressbar').first().waitFor();
  await page.waitForTimeout(2200);
  await shot(page, 'first-run');
});
fresh.proc.kill();
await browser.close();

console.log(JSON.stringify({ timings, problems }, null, 2));
if (problems.length) process.exit(1);
