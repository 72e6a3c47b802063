// Checks that the built UI can run under `default-src 'self'`: no inline
// <script> or <style>, no style="" attributes in markup, no remote URLs.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url).pathname;
const problems = [];
const html = readFileSync(join(dist, 'index.html'), 'utf8');
for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
  if (!/\bsrc=/.test(m[1]) || m[2].trim()) problems.push(`inline script in index.html: ${m[0].slice(0, 80)}`);
}
if (/<style\b/.test(html)) problems.push('inline <style> in index.html');
if (/\sstyle=/.test(html)) problems.push('style="" attribute in index.html');
for (const m of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
  if (/^(https?:)?\/\//.test(m[1])) problems.push(`remote resource in index.html: ${m[1]}`);
}
const assets = readdirSync(join(dist, 'assets'));
for (const f of assets) {
  const text = readFileSync(join(dist, 'assets', f), 'utf8');
  if (f.endsWith('.css')) {
    for (const m of text.matchAll(/url\(([^)]*)\)/g)) if (/https?:/.test(m[1])) problems.push(`remote url() in ${f}: ${m[1]}`);
    if (/@import/.test(text)) problems.push(`@import in ${f}`);
  }
  if (f.endsWith('.js')) {
    // Svelte templates are parsed from strings: a static style="" there would be blocked.
    for (const m of text.matchAll(/<[a-z][^<>`]*\sstyle="/g)) problems.push(`static style attribute in ${f}: ${m[0].slice(0, 60)}`);
    if (/\beval\(|new Function\(/.test(text)) problems.push(`eval/new Function in ${f}`);
    for (const m of text.matchAll(/["'`](https?:\/\/[^"'`\s]+)/g)) {
      const url = m[1];
      // Allowed: Tauri's own local hosts, and namespace URIs of SVG/XHTML/MathML.
      if (/^http:\/\/(\$\{\w+\}|[a-z]+)\.localhost/.test(url) || /^http:\/\/www\.w3\.org\//.test(url)) continue;
      if (/^https:\/\/svelte\.dev\/e\//.test(url)) continue; // error-message links, never fetched
      problems.push(`URL in ${f}: ${url}`);
    }
  }
}
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`CSP check: ok (${assets.length} assets, no inline scripts or styles, no remote URLs)`);
