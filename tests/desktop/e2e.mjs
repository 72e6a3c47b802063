// Desktop end-to-end test: drives the real Shoebox app (Tauri 2 on
// WebKitGTK) through tauri-driver and WebKitWebDriver. No npm
// dependencies: a few W3C WebDriver calls over Node's fetch.
//
//   node tests/desktop/e2e.mjs <app binary> <screenshot dir> <photo count>
//
// With E2E_NEW_PHOTO (an image file) and E2E_PHOTOS (the library's folder),
// it also copies the image in while the app runs and waits for the live
// library to show it.
//
// Needs a display (run.sh runs it under xvfb-run) and tauri-driver on PATH.
// The app inherits this process's environment (SHOEBOX_LIBRARY, ...).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const [app, shots, countArg] = process.argv.slice(2);
const photos = Number(countArg);
if (!app || !shots || !photos) {
  console.error('usage: e2e.mjs <app binary> <screenshot dir> <photo count>');
  process.exit(2);
}
mkdirSync(shots, { recursive: true });

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf'; // the W3C web element key
const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${msg}`);

/** A free TCP port on loopback (other test runs may share the machine). */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, timeoutMs = 30000, everyMs = 200) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await sleep(everyMs);
  }
}

const port = await freePort();
let nativePort = await freePort();
while (nativePort === port) nativePort = await freePort();
const driver = spawn('tauri-driver', ['--port', String(port), '--native-port', String(nativePort)], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
let session = null;

async function wd(method, path, body) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || json?.value?.error) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json?.value ?? json).slice(0, 400)}`);
  }
  return json.value;
}
const s = (path) => `/session/${session}${path}`;
const find = async (css) => {
  const found = await wd('POST', s('/element'), { using: 'css selector', value: css });
  if (!found?.[ELEMENT]) throw new Error(`no element ${css}: ${JSON.stringify(found)}`);
  return found[ELEMENT];
};
const findAll = async (css) =>
  (await wd('POST', s('/elements'), { using: 'css selector', value: css })).map((e) => e[ELEMENT]);
const click = (el) => wd('POST', s(`/element/${el}/click`), {});
const type = (el, text) => wd('POST', s(`/element/${el}/value`), { text });
const run = (script, ...args) => wd('POST', s('/execute/sync'), { script, args });
const text = (el) => wd('GET', s(`/element/${el}/text`));
const runAsync = (script, ...args) => wd('POST', s('/execute/async'), { script, args });

async function screenshot(name) {
  await sleep(400); // thumbnails fade in
  const png = await wd('GET', s('/screenshot'));
  const file = join(shots, `${name}.png`);
  writeFileSync(file, Buffer.from(png, 'base64'));
  log(`screenshot ${file}`);
}

/** Images under `css` that finished loading with real pixels. */
const loadedImages = (css) =>
  run(
    `return [...document.querySelectorAll(arguments[0])].filter((i) => i.complete && i.naturalWidth > 0).length;`,
    css,
  );

let failed = false;
try {
  await waitFor('tauri-driver', async () => (await fetch(`http://127.0.0.1:${port}/status`)).ok, 20000);
  const created = await wd('POST', '/session', {
    capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app } } },
  });
  session = created.sessionId;
  log(`session ${session}`);

  // 1. Open: the library timeline shows every photo, thumbnails served by
  // the shoebox:// protocol under the app's CSP.
  const title = await wd('GET', s('/title'));
  if (title !== 'Shoebox') throw new Error(`window title is ${JSON.stringify(title)}`);
  const cells = '[data-testid="timeline"] [role="gridcell"][data-id]';
  await waitFor(`${photos} photos in the timeline`, async () => (await findAll(cells)).length === photos);
  await waitFor(`${photos} thumbnails loaded`, async () => (await loadedImages(`${cells} img`)) === photos);
  const src = await run(`return document.querySelector(arguments[0]).getAttribute('src');`, `${cells} img`);
  if (!/^(shoebox:\/\/|http:\/\/shoebox\.localhost\/)thumb\/\d+/.test(src)) throw new Error(`thumbnail src ${src}`);
  log(`timeline: ${photos} photos, thumbnails from ${src}`);
  await screenshot('01-library');

  // 2. Search: ranked results and the filter chips the parser understood.
  const input = await find('#search-input');
  await click(input);
  await type(input, 'a photo of a camera after:2000\uE007');
  const results = '[data-testid="search-results"] [role="gridcell"][data-id]';
  await waitFor('search results or an empty state', async () => {
    if ((await findAll(results)).length > 0) return true;
    // Random-weight model: nothing may pass the relevance cut-off; "show
    // more" reaches past it.
    const more = await findAll('[data-testid="show-more"], [data-testid="search-empty"] button');
    if (more.length) await click(more[0]);
    return false;
  });
  const chips = await Promise.all((await findAll('[data-testid="chip"]')).map(text));
  if (!chips.some((c) => /after/i.test(c))) throw new Error(`no "after" chip: ${JSON.stringify(chips)}`);
  const found = (await findAll(results)).length;
  await waitFor('result thumbnails', async () => (await loadedImages(`${results} img`)) > 0);
  log(`search: ${found} results, chips ${JSON.stringify(chips)}`);
  await screenshot('02-search');

  // 3. Open a photo: the photo view with the 1024 px preview (made on
  // first request through shoebox://preview/<id>) and its details.
  await click((await findAll(results))[0]);
  await waitFor('the photo view', async () => (await findAll('[data-testid="photo-view"]')).length === 1);
  await waitFor('the preview image', async () => (await loadedImages('[data-testid="preview"]')) === 1, 30000);
  const details = await text(await find('[data-testid="photo-view"] aside'));
  if (!/\.(png|jpe?g)/i.test(details)) throw new Error(`photo details show no file: ${details.slice(0, 200)}`);
  log('photo view: preview loaded, details shown');
  await screenshot('03-photo');

  // 4. The shell's contract, through the same IPC the UI uses: events reach
  // the window as `shoebox://event` (a rescan ends with `idle`), errors
  // reject with {error: {code, message}}, and nothing outside the granted
  // capabilities (here a core window command) can be called.
  await wd('POST', s('/timeouts'), { script: 60000 });
  const contract = await runAsync(`
    const done = arguments[arguments.length - 1];
    const T = window.__TAURI_INTERNALS__;
    const out = { events: [] };
    const code = (p) => p.then(() => 'resolved', (e) => (e && e.error ? e.error.code : 'other: ' + JSON.stringify(e)));
    (async () => {
      out.notFound = await code(T.invoke('photo', { id: 987654321 }));
      out.badRequest = await code(T.invoke('photo', { id: 1, bogus: true }));
      out.denied = await T.invoke('plugin:window|set_title', { label: 'main', value: 'x' }).then(() => 'allowed', (e) => String(e));
      const status = await T.invoke('status', {});
      out.photos = status.photos;
      const idle = new Promise((resolve) => {
        const handler = T.transformCallback((e) => {
          out.events.push(e.payload && e.payload.event);
          if (e.payload && e.payload.event === 'idle') resolve();
        });
        T.invoke('plugin:event|listen', { event: 'shoebox://event', target: { kind: 'Any' }, handler });
      });
      await T.invoke('scan', {});
      await Promise.race([idle, new Promise((r) => setTimeout(r, 30000))]);
      done(out);
    })().catch((e) => done({ failed: String(e && e.stack || JSON.stringify(e)) }));
  `);
  log(`shell contract: ${JSON.stringify(contract)}`);
  if (contract.failed) throw new Error(contract.failed);
  if (contract.notFound !== 'not_found' || contract.badRequest !== 'bad_request')
    throw new Error(`error codes: ${contract.notFound}, ${contract.badRequest}`);
  if (contract.denied === 'allowed') throw new Error('a core window command was allowed');
  if (contract.photos !== photos) throw new Error(`status.photos = ${contract.photos}`);
  if (!contract.events.includes('idle')) throw new Error(`no idle event after scan: ${contract.events}`);

  // 5. Live library: a photo copied into the folder while the app runs
  // appears in the timeline by itself (watcher -> job queue -> `changed`).
  const { E2E_NEW_PHOTO: newPhoto, E2E_PHOTOS: folder } = process.env;
  if (newPhoto && folder) {
    await click(await find('[data-testid="photo-view"] button.close'));
    await click(await find('nav a[href="#/library"]'));
    await waitFor('the timeline', async () => (await findAll(cells)).length === photos);
    copyFileSync(newPhoto, join(folder, 'arrived-while-open.jpg'));
    await waitFor(
      `${photos + 1} photos in the timeline`,
      async () => (await findAll(cells)).length === photos + 1,
      60000,
      500,
    );
    await waitFor('its thumbnail', async () => (await loadedImages(`${cells} img`)) === photos + 1);
    log('live: the new photo appeared in the timeline');
    await screenshot('04-live');
  }
  // 6. Window state: a resized window is remembered when it closes
  // (tauri-plugin-window-state, in the app's config folder).
  if (process.env.XDG_CONFIG_HOME) {
    await wd('POST', s('/window/rect'), { width: 1100, height: 700 });
    const saved = join(process.env.XDG_CONFIG_HOME, 'org.shoebox.desktop', '.window-state.json');
    const state = await waitFor(
      `window state in ${saved}`,
      async () => existsSync(saved) && JSON.parse(readFileSync(saved, 'utf8')).main?.width === 1100 && JSON.parse(readFileSync(saved, 'utf8')),
      10000,
    );
    log(`window state saved: ${JSON.stringify(state)}`);
    if (state.main?.width !== 1100 || state.main?.height !== 700) throw new Error('window size not saved');
    // ... and restored at the next start.
    await wd('DELETE', s(''));
    session = (await wd('POST', '/session', {
      capabilities: { alwaysMatch: { browserName: 'wry', 'tauri:options': { application: app } } },
    })).sessionId;
    const rect = await waitFor('the restored window', async () => {
      const r = await wd('GET', s('/window/rect'));
      return r.width === 1100 && r.height === 700 && r;
    }, 10000);
    log(`window restored at ${rect.width}x${rect.height}`);
  }
  console.log(`desktop E2E passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (e) {
  failed = true;
  console.error(`desktop E2E FAILED: ${e.stack ?? e}`);
  if (session) await screenshot('failure').catch(() => {});
} finally {
  if (session) await wd('DELETE', s('')).catch(() => {});
  driver.kill('SIGTERM');
}
process.exit(failed ? 1 : 0);
