// End-to-end flow of wirepost in headless Chromium, clicking as a person would.
//
// Run by tests/e2e.rs (`cargo test --test e2e`), which starts the real server and
// passes, in the environment:
//   E2E_BASE_URL  http://127.0.0.1:PORT (no trailing slash)
//   E2E_SHOTS     directory for the screenshots (one PNG per page visited, numbered)
//   E2E_CHROMIUM  the Chromium binary (Debian's /usr/bin/chromium); never downloaded
//   E2E_TMP       a scratch directory (browser profile, the uploaded PNG)
//
// Restart handshake: the script prints a line `@@RESTART` on stdout and waits for a
// line `@@RESTARTED` on stdin; meanwhile the Rust test kills the server and starts it
// again on the same port with the same data directory.
//
// Any console error, uncaught page error, failed request, or 4xx/5xx response other
// than the one a step expects (the 409 of a duplicate registration) fails the run.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import zlib from 'node:zlib';

const BASE = need('E2E_BASE_URL').replace(/\/$/, '');
const SHOTS = need('E2E_SHOTS');
const CHROMIUM = need('E2E_CHROMIUM');
const TMP = need('E2E_TMP');
const TIMEOUT_MS = 15_000;

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`flow.mjs: ${name} is not set (run it through \`cargo test --test e2e\`)`);
    process.exit(2);
  }
  return v;
}

// ---------------------------------------------------------------------------------
// Small helpers

class StepError extends Error {}

function check(cond, message) {
  if (!cond) throw new StepError(message);
}

const stdinLines = (() => {
  const rl = readline.createInterface({ input: process.stdin });
  const queue = [];
  const waiters = [];
  rl.on('line', (line) => {
    const w = waiters.shift();
    if (w) w(line);
    else queue.push(line);
  });
  rl.on('close', () => {
    for (const w of waiters.splice(0)) w(null);
  });
  return {
    next(timeoutMs) {
      if (queue.length) return Promise.resolve(queue.shift());
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new StepError(`no line on stdin within ${timeoutMs} ms`)), timeoutMs);
        waiters.push((line) => {
          clearTimeout(t);
          resolve(line);
        });
      });
    },
    close() {
      rl.close();
    },
  };
})();

/** A small valid PNG (RGB gradient), built by hand: signature, IHDR, IDAT, IEND. */
function makePng(width, height) {
  const crcTable = new Int32Array(256).map((_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c;
  });
  const crc32 = (buf) => {
    let c = -1;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ -1) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type: RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < width; x++) {
      raw[row + 1 + x * 3] = Math.round((255 * x) / (width - 1));
      raw[row + 2 + x * 3] = Math.round((255 * y) / (height - 1));
      raw[row + 3 + x * 3] = 160;
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// ---------------------------------------------------------------------------------
// Browser and the error watch

fs.mkdirSync(SHOTS, { recursive: true });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  // Playwright gives every launch a new, empty --user-data-dir of its own.
});
const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
context.setDefaultTimeout(TIMEOUT_MS);
context.setDefaultNavigationTimeout(TIMEOUT_MS);
const page = await context.newPage();

/** Problems seen by the listeners; a step fails if any is new after it. */
const problems = [];
/** `{status, url}` error responses the current step expects (each allowed once). */
let allowed = [];

function allow(status, urlPath) {
  allowed.push({ status, url: BASE + urlPath, console: true, response: true });
}

function consumeAllowance(kind, status, url) {
  const a = allowed.find((x) => x[kind] && x.url === url && (status === undefined || x.status === status));
  if (!a) return false;
  a[kind] = false;
  return true;
}

page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  const url = msg.location()?.url ?? '';
  const m = /status of (\d{3})/.exec(msg.text());
  if (m && consumeAllowance('console', Number(m[1]), url)) return;
  problems.push(`console error: ${msg.text()} (at ${url || 'unknown location'})`);
});
page.on('pageerror', (err) => problems.push(`uncaught page error: ${err.message}`));
page.on('requestfailed', (req) =>
  problems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`),
);
page.on('response', (resp) => {
  if (resp.status() < 400) return;
  if (consumeAllowance('response', resp.status(), resp.url())) return;
  problems.push(`${resp.status()} for ${resp.request().resourceType()} ${resp.request().method()} ${resp.url()}`);
});

// ---------------------------------------------------------------------------------
// Steps and screenshots

let shotNo = 0;
let currentStep = '(start)';
const log = (...a) => console.log(...a);

async function shot(name) {
  shotNo += 1;
  const file = path.join(SHOTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  log(`  screenshot ${path.basename(file)}  (${page.url()})`);
}

/** Let late subresource loads (stylesheet, favicon) settle, then fail on any problem. */
async function settle() {
  await page.waitForLoadState('load');
  try {
    await page.waitForLoadState('networkidle', { timeout: 3000 });
  } catch {
    // A page that keeps loading is still checked below.
  }
  await page.waitForTimeout(150); // the favicon request starts after `load`
  const leftover = allowed.filter((a) => a.response);
  allowed = [];
  check(problems.length === 0, `errors in the browser:\n    ${problems.join('\n    ')}`);
  check(
    leftover.length === 0,
    `expected ${leftover.map((a) => `${a.status} for ${a.url}`).join(', ')}, which never came`,
  );
}

async function step(name, fn) {
  currentStep = name;
  log(`step: ${name}`);
  await fn();
  await settle();
}

/** The path (and query) of the page now shown. */
const here = () => {
  const u = new URL(page.url());
  return u.pathname + u.search;
};

/** Navigate by `action` (a click), wait for the page to load; the final response. */
async function navigating(action) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), action()]);
  return resp;
}

/** Type a URL into the address bar. */
async function visit(urlPath, status = 200) {
  const resp = await page.goto(BASE + urlPath, { waitUntil: 'load' });
  check(resp, `no response for ${urlPath}`);
  check(resp.status() === status, `GET ${urlPath}: status ${resp.status()}, expected ${status}`);
  return resp;
}

/** Click the link to `href` on the current page (the first visible one). */
async function follow(href, status = 200) {
  const link = page.locator(`a[href="${href}"]`);
  check((await link.count()) > 0, `no link to ${href} on ${here()}`);
  const resp = await navigating(() => link.first().click());
  check(resp, `following ${href}: no response`);
  check(resp.status() === status, `following ${href}: status ${resp.status()}, expected ${status}`);
  return resp;
}

/** The form on this page that posts to `action` (or holds the field `hasField`). */
async function formFor(action, hasField) {
  const sel = action ? `form[action="${action}"]` : `form:has([name="${hasField}"])`;
  const form = page.locator(sel);
  check((await form.count()) > 0, `no form ${sel} on ${here()}`);
  return form.first();
}

async function fill(form, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const input = form.locator(`[name="${name}"]`);
    check((await input.count()) > 0, `no field "${name}" in the form on ${here()}`);
    await input.first().fill(value);
  }
}

/** Click the form's submit button; the final response after redirects. */
async function submit(form, status = 200) {
  const button = form.locator('button[type="submit"], input[type="submit"], button:not([type])');
  check((await button.count()) > 0, `no submit button in the form on ${here()}`);
  const resp = await navigating(() => button.first().click());
  check(resp, 'submitting the form: no response');
  check(
    resp.status() === status,
    `submitting the form: status ${resp.status()} at ${here()}, expected ${status}`,
  );
  return resp;
}

const bodyText = () => page.locator('body').innerText();

/** Ask the server for the JSON form of a page, with the browser's cookies. */
async function json(urlPath) {
  const resp = await context.request.get(BASE + urlPath, { headers: { Accept: 'application/json' } });
  check(resp.ok(), `GET ${urlPath} (JSON): status ${resp.status()}`);
  return resp.json();
}

/** Product ids linked from the main part of the page, in document order, de-duplicated. */
async function productIdsOnPage(scope = 'main') {
  const root = (await page.locator(scope).count()) > 0 ? scope : 'body';
  const hrefs = await page
    .locator(`${root} a[href^="/products/"]`)
    .evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  const ids = [];
  for (const h of hrefs) {
    const m = /^\/products\/(\d+)\/$/.exec(h);
    if (m && !ids.includes(Number(m[1]))) ids.push(Number(m[1]));
  }
  return ids;
}

async function cookie(name) {
  return (await context.cookies(BASE)).find((c) => c.name === name);
}

// ---------------------------------------------------------------------------------
// The flow

const USER = 'ada_e2e';
const PASSWORD = 'correct horse battery staple';
const pngPath = path.join(TMP, 'headimg.png');
const png = makePng(48, 32);
fs.writeFileSync(pngPath, png);
const products = {}; // id -> name, as the product pages show it
const DAY = 24 * 3600;

async function flow() {
  await step('index', async () => {
    await visit('/');
    await shot('index');
  });

  await step('register', async () => {
    await follow('/user/register/');
    await shot('register-form');
    const form = await formFor('/user/register/');
    await fill(form, { username: USER, password: PASSWORD });
    await submit(form);
    check(here() === '/user/', `after registering the page is ${here()}, expected /user/`);
    check((await bodyText()).includes(USER), `/user/ does not show the name ${USER}`);
    await shot('user-after-register');
  });

  await step('register the same name again', async () => {
    await visit('/user/register/');
    const form = await formFor('/user/register/');
    await fill(form, { username: USER, password: 'another password' });
    allow(409, '/user/register/');
    await submit(form, 409);
    check(
      (await bodyText()).includes('user already exists'),
      'the duplicate registration page does not say "user already exists"',
    );
    await shot('register-duplicate');
  });

  await step('log out', async () => {
    await visit('/user/');
    const form = await formFor('/user/logout/');
    await submit(form);
    check(here() === '/', `after logging out the page is ${here()}, expected /`);
    await shot('after-logout');
    const who = await json('/user/');
    check(who === null || who.username === null, `after logging out /user/ says ${JSON.stringify(who)}`);
  });

  await step('log in with "remember"', async () => {
    await follow('/user/login/');
    const form = await formFor('/user/login/');
    await fill(form, { username: USER, password: PASSWORD });
    await form.locator('[name="remember"]').check();
    await shot('login-form');
    await submit(form);
    check(here() === '/user/', `after logging in the page is ${here()}, expected /user/`);
    check((await bodyText()).includes(USER), `/user/ does not show the name ${USER}`);
    await shot('user-after-login');
    const sid = await cookie('sessionid');
    check(sid, 'no sessionid cookie after logging in');
    const life = sid.expires - Date.now() / 1000;
    check(life > 13 * DAY, `"remember" should keep the session cookie ~14 days; it expires in ${life} s`);
    check(sid.httpOnly, 'the sessionid cookie is not HttpOnly');
  });

  await step('upload an image and open it', async () => {
    await visit('/');
    await follow('/upload/');
    const form = await formFor('/upload/');
    await fill(form, { username: USER });
    await form.locator('input[type="file"][name="headimg"]').setInputFiles(pngPath);
    await shot('upload-form');
    await submit(form, 201);
    check((await bodyText()).includes('headimg.png'), 'the upload result does not name headimg.png');
    await shot('upload-result');
    const link = page.locator('a[href^="/uploads/"]');
    check((await link.count()) > 0, 'no link to /uploads/… on the upload result');
    const href = await link.first().getAttribute('href');
    check(/^\/uploads\/headimg-\d+\.png$/.test(href), `unexpected stored name in ${href}`);
    const resp = await navigating(() => link.first().click());
    check(resp.status() === 200, `${href}: status ${resp.status()}`);
    check(resp.headers()['content-type']?.startsWith('image/png'), `${href}: Content-Type ${resp.headers()['content-type']}`);
    check(Buffer.compare(await resp.body(), png) === 0, `${href}: not the bytes uploaded`);
    const size = await page.locator('img').first().evaluate((img) => [img.naturalWidth, img.naturalHeight]);
    check(size[0] === 48 && size[1] === 32, `the browser decoded the image as ${size}`);
    await shot('uploaded-image');
  });

  await step('view products 1, 2, 3, 1', async () => {
    await visit('/');
    await follow('/products/');
    const listed = await productIdsOnPage();
    check([1, 2, 3].every((id) => listed.includes(id)), `/products/ links products ${listed}`);
    await shot('products');
    for (const id of [1, 2, 3, 1]) {
      if (here() !== '/products/') await follow('/products/'); // the catalogue link on every page
      await follow(`/products/${id}/`);
      const name = (await page.locator('h1').first().innerText()).trim();
      check(name.length > 0, `product ${id}: no <h1> with its name`);
      products[id] = name;
      await shot(`product-${id}`);
    }
    const history = await cookie('history');
    check(history, 'no history cookie after viewing products');
    check(history.path === '/', `history cookie path ${history.path}, expected /`);
    const life = history.expires - Date.now() / 1000;
    check(life > 29 * DAY && life <= 30 * DAY + 60, `history cookie lives ${life} s, expected 30 days`);
  });

  await step('history shows 1, 3, 2', async () => {
    await visit('/');
    await follow('/history/');
    const ids = await productIdsOnPage();
    check(JSON.stringify(ids) === '[1,3,2]', `/history/ lists products ${JSON.stringify(ids)}, expected [1,3,2]`);
    const text = await bodyText();
    for (const id of [1, 3, 2]) check(text.includes(products[id]), `/history/ does not show "${products[id]}"`);
    await shot('history');
  });

  await step('add two products to the cart', async () => {
    for (const [id, qty] of [
      [1, '2'],
      [3, '1'],
    ]) {
      await follow('/products/');
      await follow(`/products/${id}/`);
      const form = await formFor('/cart/add/');
      const idField = form.locator('[name="product"]');
      check((await idField.count()) > 0, `product ${id}: the add-to-cart form has no "product" field`);
      check((await idField.first().inputValue()) === String(id), `product ${id}: the form adds product ${await idField.first().inputValue()}`);
      const qtyField = form.locator('[name="qty"]');
      check((await qtyField.count()) > 0, `product ${id}: the add-to-cart form has no "qty" field`);
      if ((await qtyField.first().getAttribute('type')) !== 'hidden') await qtyField.first().fill(qty);
      else check((await qtyField.first().inputValue()) === '1', `product ${id}: hidden qty is not 1`);
      await submit(form);
      check(here() === '/cart/', `after adding to the cart the page is ${here()}, expected /cart/`);
      await shot(`cart-after-adding-${id}`);
    }
    await checkCart();
  });

  await step('restart the server', async () => {
    console.log('@@RESTART');
    const line = await stdinLines.next(60_000);
    check(line === '@@RESTARTED', `expected @@RESTARTED on stdin, got ${JSON.stringify(line)}`);
  });

  await step('the cart survived the restart', async () => {
    await visit('/');
    await follow('/cart/');
    await shot('cart-after-restart');
    await checkCart();
  });

  await step('cookie lab: a cookie with path=/cookies/a/', async () => {
    await visit('/');
    await follow('/cookies/');
    await shot('cookie-lab');
    const form = await formFor(null, 'path');
    await fill(form, { name: LAB_COOKIE, value: LAB_VALUE, path: '/cookies/a/' });
    await shot('cookie-lab-form-filled');
    await submit(form);
    await shot('cookie-lab-after-set');
    const c = await context.cookies(BASE + '/cookies/a/x');
    const set = c.find((x) => x.name === LAB_COOKIE);
    check(set, `the browser has no ${LAB_COOKIE} cookie after the lab set it`);
    check(set.path === '/cookies/a/', `the lab's cookie has path ${set.path}, expected /cookies/a/`);

    await follow('/cookies/a/x'); // the lab links its sub-paths and a sibling
    check(await labShows(), `/cookies/a/x does not list ${LAB_COOKIE}=${LAB_VALUE}`);
    await shot('cookie-lab-a-x');

    await follow('/cookies/b/');
    check(!(await labShows()), `/cookies/b/ lists ${LAB_COOKIE}, whose path is /cookies/a/`);
    check(
      (await bodyText()).includes('history'),
      '/cookies/b/ does not list the history cookie (Path=/), so it may list no cookies at all',
    );
    await shot('cookie-lab-b');
  });

  await step('parser playground: an error, its byte marked', async () => {
    await visit('/');
    await follow('/parse/');
    await shot('parse-example');
    check((await bodyText()).includes('target "/a?b=1"'), '/parse/ does not list the example\'s target');
    const form = await formFor('/parse/');
    // Line breaks in the box are layout; the bytes are the escapes.
    await fill(form, {
      bytes: 'GET / HTTP/1.1\\r\\n\nHost: a\\r\\n\nBad Name: x\\r\\n\n\\r\\n',
      split: '3,20',
    });
    await submit(form);
    const mark = page.locator('pre.parse-input mark');
    check((await mark.count()) === 1, 'the /parse/ result marks no byte');
    // Byte 28 is the space in "Bad Name".
    const marked = await mark.textContent();
    check(marked === ' ', `/parse/ marks ${JSON.stringify(marked)}, expected the space at byte 28`);
    const text = await bodyText();
    check(text.includes('line 3: header name contains a space'), '/parse/ does not give the error');
    check(text.includes('The events are the same'), '/parse/ does not compare the split run');
    await shot('parse-error-marked');
  });

  await step('on the wire: the panel shows the Set-Cookie just sent', async () => {
    await visit('/cookies/');
    const form = await formFor(null, 'path');
    await fill(form, { name: 'wire_e2e', value: 'seen-on-the-wire', path: '/' });
    await submit(form);
    // The lab's own box, and the panel's previous exchange: the POST and its 302.
    const just = page.locator('section.just-sent');
    check((await just.count()) === 1, 'the cookie lab shows no "Just sent" box after setting a cookie');
    check(
      (await just.innerText()).includes('Set-Cookie: wire_e2e=seen-on-the-wire;'),
      `the "Just sent" box shows ${JSON.stringify(await just.innerText())}`,
    );
    const panel = page.locator('details.wire-panel');
    check((await panel.count()) === 1, 'the page has no "On the wire" panel');
    check(!(await panel.evaluate((d) => d.open)), 'the "On the wire" panel is open by default');
    await panel.locator('summary').click();
    const text = await panel.innerText();
    check(text.includes('GET /cookies/ HTTP/1.1\\r\\n'), `the panel lacks this request's head:\n${text}`);
    check(text.includes('POST /cookies/ HTTP/1.1\\r\\n'), `the panel lacks the POST before:\n${text}`);
    check(text.includes('HTTP/1.1 302 Found\\r\\n'), `the panel lacks the 302:\n${text}`);
    check(text.includes('Location: /cookies/\\r\\n'), `the panel lacks the Location:\n${text}`);
    check(
      /Set-Cookie: wire_e2e=seen-on-the-wire;[^\n]*Path=\/[;\\]/.test(text),
      `the panel lacks the Set-Cookie sent:\n${text}`,
    );
    const sid = await cookie('sessionid');
    if (sid) check(!text.includes(sid.value), 'the panel shows the whole session id');
    await shot('wire-panel-open');
  });

  await step('the wire log: this browser\'s exchanges, keep-alive numbered', async () => {
    await visit('/');
    await follow('/wire/');
    const sections = page.locator('section.exchange');
    check((await sections.count()) >= 5, `/wire/ lists ${await sections.count()} exchanges`);
    const first = await sections.first().innerText();
    check(first.includes('GET / HTTP/1.1\\r\\n'), `the newest exchange is not the index:\n${first}`);
    const log = await json('/wire/');
    const requests = log.exchanges.map((e) => e.request);
    check(requests.some((n) => n > 1), `no connection carried two requests: ${requests}`);
    const sid = await cookie('sessionid');
    if (sid) check(!JSON.stringify(log).includes(sid.value), '/wire/ shows the whole session id');
    await shot('wire-log');
  });

  await step('the docs on the site: /docs/protocol with its transcripts', async () => {
    await visit('/');
    await follow('/docs/');
    await shot('docs-index');
    await follow('/docs/protocol');
    const pre = page.locator('article.doc pre');
    check((await pre.count()) > 3, '/docs/protocol shows no transcripts');
    check(
      (await bodyText()).includes('GET / HTTP/1.1'),
      '/docs/protocol does not show a request transcript',
    );
    await shot('docs-protocol');
  });

  await phonePass();
}

// ---------------------------------------------------------------------------------
// A 390 px phone: every HTML page fits without horizontal scroll, long values included

const PHONE = { width: 390, height: 844 };
const LONG = 'x'.repeat(40) + 'LongValueWithoutSpaces'.repeat(12);

/** The page scrolls sideways if the document is wider than the window. */
async function fitsPhone(name) {
  const [scroll, inner] = await page.evaluate(() => [
    document.documentElement.scrollWidth,
    window.innerWidth,
  ]);
  await shot(`390px-${name}`);
  check(scroll <= inner, `${here()} at ${PHONE.width} px: scrollWidth ${scroll} > innerWidth ${inner} (scrolls sideways)`);
}

async function phonePass() {
  // Each page settles (its favicon loaded) before the next navigation, which would
  // otherwise abort that request.
  await step('390 px: a long cookie', async () => {
    await page.setViewportSize(PHONE);
    await visit('/cookies/');
    await settle();
    const form = await formFor(null, 'path');
    await fill(form, { name: 'long_e2e', value: LONG, path: '/' });
    await submit(form);
  });
  await step('390 px: a long session value', async () => {
    await visit('/session/');
    await settle();
    const set = await formFor(null, 'key');
    await fill(set, { key: 'long_note', value: LONG });
    await submit(set);
  });

  const pages = [
    ['index', '/'],
    ['products', '/products/'],
    ['product', '/products/1/'],
    ['history', '/history/'],
    ['cart', '/cart/'],
    ['cookie-lab', '/cookies/'],
    ['cookie-lab-sub', '/cookies/a/x'],
    ['session', '/session/'],
    ['upload', '/upload/'],
    ['user', '/user/'],
    ['login', '/user/login/'],
    ['register', '/user/register/'],
    ['echo', `/echo?note=${LONG}&lang=en`],
    ['wire', '/wire/'],
    ['parse', '/parse/'],
    ['docs', '/docs/'],
    ['docs-protocol', '/docs/protocol'],
  ];
  for (const [name, urlPath] of pages) {
    await step(`390 px: ${urlPath.slice(0, 40)}`, async () => {
      await visit(urlPath);
      await fitsPhone(name);
    });
  }
  await step('390 px: an error page', async () => {
    allow(404, '/no-such-page/');
    await visit('/no-such-page/', 404);
    await fitsPhone('error-404');
  });
  await step('390 px: an upload with a long name', async () => {
    const long = path.join(TMP, `${'a-long-file-name-without-spaces'.repeat(4)}.png`);
    fs.writeFileSync(long, png);
    await visit('/upload/');
    await settle();
    const form = await formFor('/upload/');
    await fill(form, { username: USER });
    await form.locator('input[type="file"][name="headimg"]').setInputFiles(long);
    await submit(form, 201);
    await fitsPhone('upload-result');
  });
  await step('390 px: the cart holds items', async () => {
    const cart = await json('/cart/');
    check((cart.items ?? []).length > 0, 'the cart is empty for the 390 px pass');
  });
}

const LAB_COOKIE = 'lab_e2e';
const LAB_VALUE = 'only-under-a';

async function labShows() {
  const text = await bodyText();
  return text.includes(LAB_COOKIE) && text.includes(LAB_VALUE);
}

/** The cart page shows products 1 (qty 2) and 3 (qty 1), and its JSON agrees. */
async function checkCart() {
  if (here() !== '/cart/') await visit('/cart/');
  const text = await bodyText();
  for (const id of [1, 3]) check(text.includes(products[id]), `/cart/ does not show "${products[id]}"`);
  const cart = await json('/cart/');
  const items = (cart.items ?? []).map((i) => [i.id, i.qty]);
  check(
    JSON.stringify(items.sort()) === JSON.stringify([[1, 2], [3, 1]]),
    `/cart/ (JSON) holds ${JSON.stringify(cart)}, expected products 1 ×2 and 3 ×1`,
  );
}

// ---------------------------------------------------------------------------------

const started = Date.now();
let failed = false;
try {
  await flow();
  await page.waitForTimeout(500); // anything late (a favicon) still counts
  check(problems.length === 0, `errors in the browser:\n    ${problems.join('\n    ')}`);
  log(`e2e: all steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${SHOTS}`);
} catch (e) {
  failed = true;
  console.error(`\nFAILED at step "${currentStep}" (page ${page.url()}):\n  ${e instanceof StepError ? e.message : e.stack}`);
  if (problems.length && !(e instanceof StepError && e.message.startsWith('errors in the browser'))) {
    console.error(`  errors in the browser:\n    ${problems.join('\n    ')}`);
  }
  try {
    await shot(`FAILED-${currentStep.replace(/[^a-z0-9]+/gi, '-').replace(/-$/, '')}`);
  } catch {
    // The page may be gone.
  }
} finally {
  stdinLines.close();
  await browser.close();
}
process.exit(failed ? 1 : 0);
