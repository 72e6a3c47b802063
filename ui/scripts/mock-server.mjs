// A stand-in for `shoebox serve` for UI work without the Rust build:
// serves ui/dist with the server's headers (strict CSP, token, cookie) and a
// fake library of MOCK_PHOTOS photos (default 100 000) behind the commands of
// docs/api.md. Thumbnails are generated SVGs.
//
//   npm run build && node scripts/mock-server.mjs [port]
//   → prints http://127.0.0.1:PORT/?token=...
import { createServer } from 'node:http';
import { readFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { join, extname } from 'node:path';

const port = Number(process.argv[2] ?? process.env.PORT ?? 8765);
const token = process.env.MOCK_TOKEN ?? 'mock-token';
const N = Number(process.env.MOCK_PHOTOS ?? 100000);
const firstRunNeeded = process.env.MOCK_FIRST_RUN === '1';
const dist = new URL('../dist/', import.meta.url).pathname;
const CSP = "default-src 'self'; img-src 'self' data: blob:";
// Optional real JPEG thumbnails (MOCK_THUMBS=dir of *.jpg), served round-robin;
// SVGs are generated otherwise.
const jpegs = process.env.MOCK_THUMBS ? readdirSync(process.env.MOCK_THUMBS).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => readFileSync(join(process.env.MOCK_THUMBS, f))) : [];

// ---- the fake library -------------------------------------------------
const photos = [];
{
  let t = Date.UTC(2024, 11, 31, 18);
  for (let i = 0; i < N; i++) {
    t -= 1000 * 60 * (20 + ((i * 7919) % 600));
    const d = new Date(t);
    const portrait = i % 4 === 0;
    photos.push({ id: N - i, width: portrait ? 3000 : 4000, height: portrait ? 4000 : 3000, taken_at: d.toISOString().replace('.000Z', '+00:00') });
  }
}
const months = [];
photos.forEach((p, i) => {
  const m = p.taken_at.slice(0, 7);
  if (!months.length || months.at(-1).month !== m) months.push({ month: m, count: 0, offset: i });
  months.at(-1).count++;
});
const byId = new Map(photos.map((p) => [p.id, p]));
const VOCAB = [
  ['animals', [], true], ['dog', ['animals']], ['golden retriever', ['dog', 'animals']], ['cat', ['animals']],
  ['scenes', [], true], ['beach', ['scenes']], ['mountain', ['scenes']], ['city street', ['scenes']],
  ['events', [], true], ['birthday', ['events']], ['wedding', ['events']],
  ['food', [], true], ['cake', ['food', 'birthday']],
];
let tags = VOCAB.map(([tag, parents, group]) => ({ tag, name: tag, parents, group: !!group, custom: false, keyword: false, count: group ? 0 : (tag.length * 97) % 400, auto: 0, user: 0, imported: 0, rejected: 0 }));
tags.push({ tag: 'vacation 2019', name: 'Vacation 2019', parents: [], group: false, custom: false, keyword: true, count: 14, auto: 0, user: 0, imported: 14, rejected: 0 });
const photoTags = new Map();
let folders = firstRunNeeded ? [] : [
  { id: 1, path: '/home/me/Pictures', online: true, last_scan_at: '2024-12-31T18:00:00Z', watch: 'native' },
  { id: 2, path: '/media/usb/Archive', online: false, last_scan_at: '2023-02-01T10:00:00Z', watch: 'offline' },
];
let firstRun = firstRunNeeded;
let modelActive = firstRunNeeded ? null : 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K';
let download = null;
let paused = [];
let xmp = { write_on_change: false, naming: 'append' };
const errors = [
  { path: '/home/me/Pictures/2019/broken.jpg', reason: 'truncated JPEG (ends after 18 432 of 2 048 000 bytes)', kind: 'error' },
  { path: '/home/me/Pictures/2021/IMG_2231.HEIC', reason: 'HEIC is not supported yet', kind: 'unsupported' },
  { path: '/home/me/Pictures/2020/scan.tif', reason: 'EXIF block is corrupt; indexed without it', kind: 'warning' },
];
let dupeGroups = [0, 1, 2, 3].map((k) => {
  const a = photos[k * 50], b = photos[k * 50 + 1];
  const tier = k < 2 ? 'near' : k === 2 ? 'exact' : 'similar';
  return {
    id: `${tier[0]}${(0x3f2a9c01b7 + k).toString(16)}`, tier, kind: 'photos', keep: a.id,
    reason: tier === 'similar' ? 'sharpest' : 'highest resolution (4032×3024 vs 1600×1200)', notes: [],
    differs: tier === 'exact' ? ['folder'] : ['resolution', 'bytes'],
    members: [
      { id: a.id, photo_id: a.id, path: `/home/me/Pictures/IMG_${a.id}.jpg`, paths: [`/home/me/Pictures/IMG_${a.id}.jpg`], width: 4032, height: 3024, bytes: 3481920, taken_at: a.taken_at, hash: 'aa', keep: true },
      { id: b.id, photo_id: b.id, path: `/home/me/Pictures/copies/IMG_${a.id}-small.jpg`, paths: [`/home/me/Pictures/copies/IMG_${a.id}-small.jpg`], width: tier === 'exact' ? 4032 : 1600, height: tier === 'exact' ? 3024 : 1200, bytes: tier === 'exact' ? 3481920 : 412000, taken_at: a.taken_at, hash: 'bb', keep: false },
    ],
  };
});
const history = [];

function statusObj() {
  return {
    library: '/home/me/.local/share/shoebox', photos: folders.length ? N : 0, files: folders.length ? N + 40 : 0, errors: 2, warnings: 1, offline: 0,
    pending: progress.embed.done < progress.embed.total ? progress.embed.total - progress.embed.done : 0,
    embedded: progress.embed.done, pending_embeddings: progress.embed.total - progress.embed.done, model: modelActive,
    folders: folders.length, offline_folders: folders.filter((f) => !f.online).length, roots: folders,
    live: { running: true, paused, queued_paths: 0, progress: progress.embed.done < progress.embed.total ? [progress.embed] : [], jobs: [], watch: folders.map((f) => ({ root: f.path, mode: f.watch, reason: null })) },
    download,
  };
}
const progress = { embed: { kind: 'embed', done: Math.floor(N * 0.9), total: N, rate: 11.5, eta_seconds: null } };

class ApiErr extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

function parseQuery(q) {
  const filters = { after: null, before: null, months: [], folders: [], cameras: [], tags: [], has_gps: null, types: [], like: null };
  const negative = [];
  const text = [];
  for (const w of q.match(/"[^"]*"|\S+/g) ?? []) {
    let m;
    if ((m = /^after:(\d{4})(?:-(\d\d))?/.exec(w))) filters.after = `${m[1]}-${m[2] ?? '01'}-01`;
    else if ((m = /^before:(\d{4})(?:-(\d\d))?/.exec(w))) filters.before = `${m[1]}-${m[2] ?? '01'}-01`;
    else if ((m = /^tag:"?([^"]+)"?/.exec(w))) filters.tags.push(m[1]);
    else if ((m = /^in:"?([^"]+)"?/.exec(w))) filters.folders.push(m[1]);
    else if ((m = /^camera:"?([^"]+)"?/.exec(w))) filters.cameras.push(m[1]);
    else if ((m = /^type:(\w+)/.exec(w))) filters.types.push(m[1]);
    else if ((m = /^like:(\d+)/.exec(w))) filters.like = Number(m[1]);
    else if (w === 'has:gps') filters.has_gps = true;
    else if (w === '-has:gps') filters.has_gps = false;
    else if (/^-[a-z"]/i.test(w)) negative.push(w.slice(1).replace(/"/g, ''));
    else if (/^\w+:/.test(w) && !/^\d/.test(w)) throw new ApiErr(400, 'bad_query', `unknown filter "${w.split(':')[0]}:"; known: after, before, year, date, in, camera, tag, has, no, type, like`);
    else text.push(w.replace(/"/g, ''));
  }
  return { text: text.join(' '), negative, filters };
}

function chipsOf(query) {
  const c = [];
  const f = query.filters;
  if (f.after) c.push({ field: 'after', value: f.after, label: `after ${f.after}` });
  if (f.before) c.push({ field: 'before', value: f.before, label: `before ${f.before}` });
  for (const [field, lab] of [['folders', 'in'], ['cameras', 'camera'], ['tags', 'tag'], ['types', 'type']]) for (const v of f[field]) c.push({ field, value: v, label: `${lab}: ${v}` });
  if (f.months.length) c.push({ field: 'months', value: f.months, label: `months ${f.months.join(', ')}` });
  if (f.has_gps != null) c.push({ field: 'has_gps', value: f.has_gps, label: f.has_gps ? 'has GPS' : 'no GPS' });
  if (f.like != null) c.push({ field: 'like', value: f.like, label: `like #${f.like}` });
  for (const n of query.negative) c.push({ field: 'negative', value: n, label: `not ${n}` });
  return c;
}

function runSearch(query, args) {
  if (!modelActive) throw new ApiErr(409, 'no_model', 'Search needs a model: download one in Settings, or add a model folder from disk.');
  const f = query.filters;
  let pool = photos.filter((p) => (!f.after || p.taken_at >= f.after) && (!f.before || p.taken_at < f.before));
  const seed = [...(query.text + query.negative.join())].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
  const scored = query.text || query.negative.length || f.like != null;
  let results = pool.map((p) => ({ ...p, score: scored ? 0.12 + (((p.id * 2654435761 + seed) >>> 0) % 1000) / 4000 : null, path: `/home/me/Pictures/${p.taken_at.slice(0, 4)}/IMG_${p.id}.jpg` }));
  if (f.like != null) results = results.filter((p) => p.id !== f.like);
  let total;
  if (scored) {
    results.sort((a, b) => b.score - a.score);
    const cut = args.all ? 0 : 0.355;
    const kept = results.filter((r) => r.score >= cut);
    total = kept.length;
    results = kept;
  } else total = results.length;
  const offset = args.offset ?? 0, limit = args.limit ?? 20;
  return { query, chips: chipsOf(query), results: results.slice(offset, offset + limit), total, candidates: pool.length, cutoff: scored ? { min_score: 0.355, median: 0.245, spread: 0.036 } : null, more: scored && !args.all && total < pool.length, sort: args.sort ?? 'relevance', offset, limit };
}

function photoDetail(id) {
  const p = byId.get(id);
  if (!p) throw new ApiErr(404, 'not_found', `no photo matches ${id}`);
  if (!photoTags.has(id)) photoTags.set(id, { tags: id % 3 ? [{ tag: 'beach', name: 'beach', score: 0.291, source: 'auto' }, { tag: 'dog', name: 'dog', score: 0.244, source: 'auto' }] : [{ tag: 'vacation 2019', name: 'Vacation 2019', score: null, source: 'imported' }], rejected: [] });
  const t = photoTags.get(id);
  const path = `/home/me/Pictures/${p.taken_at.slice(0, 4)}/IMG_${id}.jpg`;
  return { ...p, hash: id.toString(16).padStart(64, '0'), format: 'jpeg', taken_at_source: 'exif:DateTimeOriginal', camera_make: 'Google', camera_model: 'Pixel 7', lens: 'Pixel 7 back camera 6.81mm f/1.85', gps: id % 2 ? { lat: 41.9028, lon: 12.4964 } : null, place: null, orientation: 1, bytes: 2_000_000 + (id % 1000) * 3000, offline: false, files: [{ path, bytes: 3481920, online: true }], paths: [path], tags: t.tags, rejected: t.rejected };
}

function tagEdit(action, { id, tag }) {
  photoDetail(id);
  const t = photoTags.get(id);
  const was_on = t.tags.some((x) => x.tag === tag);
  if (action === 'add' || action === 'confirm') {
    t.tags = [...t.tags.filter((x) => x.tag !== tag), { tag, name: tag, score: null, source: 'user' }];
    t.rejected = t.rejected.filter((x) => x !== tag);
  } else {
    t.tags = t.tags.filter((x) => x.tag !== tag);
    t.rejected = [...new Set([...t.rejected, tag])];
  }
  emit({ event: 'changed', what: 'tags', ids: [id] });
  return { id, tag, action, was_on, tags: t.tags };
}

function resolution(g, keep, dry_run) {
  const k = keep ?? g.keep;
  const trash = g.members.filter((m) => m.id !== k).map((m) => m.path);
  return { group: g.id, tier: g.tier, kind: g.kind, keep: k, keep_path: g.members.find((m) => m.id === k)?.path, reason: g.reason, trash, dry_run, trashed: dry_run ? [] : trash, skipped: [], action: dry_run ? null : history.length + 1 };
}

const models = () => ({
  active: modelActive,
  models: [
    { name: 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', repo: 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', family: 'clip', default: true, active: modelActive === 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', downloaded: !!modelActive, download_mb: 605, embedded: modelActive ? progress.embed.done : 0, notes: 'Fast on a laptop CPU; good for search.' },
    { name: 'openai/clip-vit-large-patch14', repo: 'openai/clip-vit-large-patch14', family: 'clip', default: false, active: false, downloaded: false, download_mb: 1710, embedded: 0, notes: 'About 18x the compute; for a GPU.' },
  ],
  download,
});

const commands = {
  status: () => statusObj(),
  first_run: () => ({ needed: firstRun, folders: folders.length, model: modelActive, model_ready: !!modelActive, default_model: { name: 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', download_mb: 605, downloaded: !!modelActive }, offline_note: 'Without a model, browsing, metadata, exact and near duplicates work; search, similar photos, tags and similar shots need one. To add a model from disk, choose a folder with config.json, model.safetensors, tokenizer.json and preprocessor_config.json.' }),
  first_run_done: () => ((firstRun = false), { needed: false }),
  errors: () => ({ errors }),
  scan: () => ({ started: true }),
  timeline: ({ offset = 0, limit = 200, months: withMonths = true }) => {
    const list = folders.length ? photos : [];
    return { total: list.length, months: withMonths ? (folders.length ? months : []) : undefined, offset, limit, photos: list.slice(offset, offset + Math.min(limit, 2000)) };
  },
  photo: ({ id }) => photoDetail(id),
  reveal: ({ id }) => { const p = photoDetail(id); return { id, path: p.paths[0], folder: p.paths[0].replace(/\/[^/]*$/, ''), online: true }; },
  search: (args) => runSearch(args.query ?? parseQuery(args.q ?? ''), args),
  similar: (args) => runSearch({ text: '', negative: [], filters: { ...parseQuery('').filters, like: args.id } }, args),
  tags: () => ({ tags }),
  tag_photos: ({ tag, offset = 0, limit = 200 }) => {
    const t = tags.find((x) => x.tag === tag);
    const n = t?.count ?? 0;
    const list = photos.filter((_, i) => i % 97 === tag.length % 97).slice(0, n);
    return { tag, total: list.length, offset, limit, photos: list.slice(offset, offset + limit).map((p, k) => ({ ...p, source: k % 3 ? 'auto' : 'user', score: k % 3 ? 0.25 + (k % 10) / 100 : null })) };
  },
  tag_add: (a) => tagEdit('add', a), tag_remove: (a) => tagEdit('remove', a), tag_confirm: (a) => tagEdit('confirm', a), tag_reject: (a) => tagEdit('reject', a),
  custom_tag_create: ({ name, description = null, parent = null, examples = [] }) => {
    tags.push({ tag: name, name, parents: parent ? [parent] : [], group: false, custom: true, keyword: false, count: 0, auto: 0, user: 0, imported: 0, rejected: 0 });
    return { tag: name, name, kind: 'custom', description, parent, examples: examples.length };
  },
  custom_tag_remove: ({ name }) => ((tags = tags.filter((t) => t.tag !== name)), { tag: name }),
  dupes: ({ tier = null }) => ({ counts: { exact: dupeGroups.filter((g) => g.tier === 'exact').length, near: dupeGroups.filter((g) => g.tier === 'near').length, similar: dupeGroups.filter((g) => g.tier === 'similar').length }, groups: dupeGroups.filter((g) => !tier || g.tier === tier) }),
  dupes_resolve: ({ group, keep = null, dry_run = true }) => {
    const g = dupeGroups.find((x) => x.id === group);
    if (!g) throw new ApiErr(404, 'not_found', `no group ${group}`);
    if (g.tier === 'similar' && keep == null) throw new ApiErr(409, 'conflict', 'similar shots need an explicit keep');
    const r = resolution(g, keep, dry_run);
    if (!dry_run) { dupeGroups = dupeGroups.filter((x) => x !== g); history.push({ id: history.length + 1, group_id: g.id, tier: g.tier, kept: r.keep_path, files: r.trash, at: new Date().toISOString(), undone: false }); }
    return r;
  },
  dupes_resolve_all: ({ tier, dry_run = true }) => {
    if (tier === 'similar') throw new ApiErr(422, 'invalid', 'similar shots are never resolved in bulk');
    const gs = dupeGroups.filter((g) => g.tier === tier);
    const plans = gs.map((g) => resolution(g, null, dry_run));
    if (!dry_run) dupeGroups = dupeGroups.filter((g) => g.tier !== tier);
    return { tier, dry_run, groups: plans };
  },
  dupes_keep_all: ({ group }) => ((dupeGroups = dupeGroups.filter((g) => g.id !== group)), { group, tier: 'similar', decision: 'keep_all' }),
  dupes_not_duplicates: ({ group }) => ((dupeGroups = dupeGroups.filter((g) => g.id !== group)), { group, tier: 'near', decision: 'not_duplicates' }),
  dupes_history: () => ({ actions: history }),
  dupes_undo: ({ action }) => { const a = history.find((h) => h.id === action); if (a) a.undone = true; return { action, restored: a?.files ?? [], not_in_trash: [] }; },
  folders: () => ({ folders }),
  folders_add: ({ path }) => {
    if (!path.startsWith('/')) throw new ApiErr(404, 'not_found', `${path} does not exist`);
    const inside = folders.find((f) => path.startsWith(f.path + '/') || f.path.startsWith(path + '/'));
    if (inside) throw new ApiErr(409, 'conflict', `${path} overlaps ${inside.path}, which is already a folder`);
    let f = folders.find((x) => x.path === path);
    if (!f) { f = { id: Math.max(0, ...folders.map((x) => x.id)) + 1, path, online: true, last_scan_at: null, watch: 'native' }; folders.push(f); }
    emit({ event: 'changed', what: 'folders' });
    return f;
  },
  folders_remove: ({ id }) => { const f = folders.find((x) => x.id === id); if (!f) throw new ApiErr(404, 'not_found', `no folder ${id}`); folders = folders.filter((x) => x !== f); emit({ event: 'changed', what: 'folders' }); return f; },
  settings_get: () => ({ xmp, thumbnails: { bytes: 48210944, files: N }, library: '/home/me/.local/share/shoebox', device: 'cpu' }),
  settings_set: (a) => ((xmp = { ...xmp, ...(a.xmp ?? {}) }), commands.settings_get()),
  settings_clear_previews: () => ({ removed: 312, bytes: 20122112 }),
  models,
  model_download: ({ name }) => {
    if (download?.state === 'running') throw new ApiErr(409, 'conflict', 'a download is already running');
    download = { name, state: 'running', file: 'model.safetensors', done_bytes: 0, total_bytes: 605 * 1024 * 1024, error: null };
    return { started: true, name };
  },
  model_download_cancel: () => { const was = download?.state === 'running'; if (was) { download = { ...download, state: 'cancelled' }; emit({ event: 'download', ...download }); } return { cancelled: was }; },
  model_choose: ({ name }) => ((modelActive = name), { active: name, key: name, dim: 512 }),
  model_add: ({ path }) => ((modelActive = path), { active: path, key: path, dim: 512 }),
  jobs_pause: ({ kinds = [] }) => ((paused = kinds.length ? kinds : ['scan', 'ingest', 'embed', 'tags']), emit({ event: 'paused', kinds: paused }), { paused }),
  jobs_resume: () => ((paused = []), emit({ event: 'paused', kinds: [] }), { paused }),
};

// ---- events -----------------------------------------------------------
const clients = new Set();
function emit(e) {
  for (const res of clients) res.write(`data: ${JSON.stringify(e)}\n\n`);
}
setInterval(() => {
  if (!paused.length && progress.embed.done < progress.embed.total) {
    progress.embed.done = Math.min(progress.embed.total, progress.embed.done + 12);
    progress.embed.eta_seconds = (progress.embed.total - progress.embed.done) / progress.embed.rate;
    emit({ event: 'progress', ...progress.embed });
    if (progress.embed.done >= progress.embed.total) emit({ event: 'idle', paused: [] });
  }
  if (download?.state === 'running') {
    download.done_bytes = Math.min(download.total_bytes, download.done_bytes + 40 * 1024 * 1024);
    if (download.done_bytes >= download.total_bytes) { download.state = 'done'; modelActive = download.name; }
    emit({ event: 'download', ...download });
  }
}, 1000);

// ---- HTTP -------------------------------------------------------------
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

function thumb(id) {
  const hue = (id * 47) % 360;
  const p = byId.get(id);
  const w = p?.width ?? 4, h = p?.height ?? 3;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="hsl(${hue},55%,62%)"/><stop offset="1" stop-color="hsl(${(hue + 60) % 360},45%,38%)"/></linearGradient></defs><rect width="${w}" height="${h}" fill="url(#g)"/><text x="${w / 2}" y="${h / 2}" font-size="${h / 6}" text-anchor="middle" fill="#fff8" font-family="sans-serif">${id}</text></svg>`;
}

function authed(req, url) {
  if (url.searchParams.get('token') === token) return true;
  if ((req.headers.authorization ?? '') === `Bearer ${token}`) return true;
  return (req.headers.cookie ?? '').split(/;\s*/).includes(`shoebox_token=${token}`);
}

const server = createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' };
  if (url.searchParams.get('token') === token) headers['Set-Cookie'] = `shoebox_token=${token}; HttpOnly; SameSite=Strict; Path=/`;
  const send = (status, body, type = 'application/json') => { res.writeHead(status, { ...headers, 'Content-Type': type }); res.end(body); };
  const isApi = url.pathname.startsWith('/api/') || url.pathname.startsWith('/thumb/') || url.pathname.startsWith('/preview/');
  if (isApi && !authed(req, url)) return send(401, JSON.stringify({ error: { code: 'unauthorized', message: 'missing or wrong token' } }));
  let m;
  if (url.pathname === '/api/events') {
    res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': hello\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
    return;
  }
  if ((m = /^\/api\/(\w+)$/.exec(url.pathname))) {
    const fn = commands[m[1]];
    if (!fn) return send(404, JSON.stringify({ error: { code: 'unknown_command', message: `no command ${m[1]}` } }));
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        const args = body ? JSON.parse(body) : {};
        send(200, JSON.stringify(fn(args)));
      } catch (e) {
        send(e.status ?? 500, JSON.stringify({ error: { code: e.code ?? 'internal', message: e.message } }));
      }
    });
    return;
  }
  if ((m = /^\/(thumb|preview)\/(\d+)$/.exec(url.pathname))) {
    if (jpegs.length) {
      res.writeHead(200, { ...headers, 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, no-cache', ETag: `"${m[2]}-${m[1]}"` });
      return res.end(jpegs[Number(m[2]) % jpegs.length]);
    }
    res.writeHead(200, { ...headers, 'Content-Type': 'image/svg+xml', 'Cache-Control': 'private, no-cache', ETag: `"${m[2]}-${m[1]}"` });
    return res.end(thumb(Number(m[2])));
  }
  let file = join(dist, decodeURIComponent(url.pathname));
  if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) {
    if (extname(url.pathname)) return send(404, 'not found', 'text/plain');
    file = join(dist, 'index.html');
  }
  send(200, readFileSync(file), TYPES[extname(file)] ?? 'application/octet-stream');
});
server.listen(port, '127.0.0.1', () => console.log(`http://127.0.0.1:${port}/?token=${token}`));
