// Real-browser test of the example chat (../example) against a running API.
//
//   API_URL=http://127.0.0.1:8080 node e2e/chat.test.mjs
//
// (e2e/run.sh builds the kit, the example and the API, starts the API and
// runs this.) It serves example/dist on a free localhost port, so the page
// calls the API from another origin, and drives two browser contexts of
// Debian's Chromium through playwright-core:
//   - A and B sign up;
//   - A starts a direct conversation with B and sends 6 messages;
//   - B sees the conversation appear live with 6 unread;
//   - B opens it: the newest page (5), then "Load older" brings the 6th;
//     B's unread badge goes away, and A sees "Read" on its messages;
//   - B types: A sees B typing; B sends: A sees the message live, and B
//     sees A's read receipt;
//   - A reloads with an expired resume cursor: the kit's resume helper gets
//     CURSOR_EXPIRED, the page refetches, and B's next message reaches A
//     live (unread 1).
// On failure (or with E2E_SCREENSHOTS=1), screenshots are written to
// e2e/artifacts/, with the console logs and page URLs on failure.
import { chromium } from 'playwright-core';
import { createReadStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const API = (process.env.API_URL || '').replace(/\/+$/, '');
if (!API) {
  console.error('API_URL is not set (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const DIST = fileURLToPath(new URL('../example/dist/', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 15000);
const PAGE_SIZE = 5;

const logs = [];
const log = (line) => logs.push(`${new Date().toISOString()} ${line}`);
const step = (msg) => {
  console.log(`e2e: ${msg}`);
  log(`STEP ${msg}`);
};

// A static server for the built page, on its own port: another origin than the API.
const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
const server = createServer(async (req, res) => {
  const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
  let file = join(DIST, path === '/' ? 'index.html' : path);
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream' });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404).end('not found');
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const APP = `http://127.0.0.1:${server.address().port}/?api=${encodeURIComponent(API)}&page=${PAGE_SIZE}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const pages = {};
const pageErrors = [];
async function open(name) {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('console', (m) => log(`${name} console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => {
    pageErrors.push(`${name}: ${e.message}`);
    log(`${name} pageerror: ${e.stack || e.message}`);
  });
  page.on('requestfailed', (r) => log(`${name} request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) log(`${name} ${r.status()} ${r.url()} ${(r.request().postData() || '').slice(0, 200)}`);
  });
  page.on('websocket', (ws) => {
    ws.on('framereceived', (f) => log(`${name} ws< ${String(f.payload).slice(0, 300)}`));
    ws.on('framesent', (f) => log(`${name} ws> ${String(f.payload).slice(0, 200)}`));
  });
  pages[name] = page;
  await page.goto(APP);
  return page;
}

async function signUp(page, username, displayName) {
  await page.fill('input[name=username]', username);
  await page.fill('input[name=displayName]', displayName);
  await page.fill('input[name=password]', 'correct horse battery');
  await page.click('form[aria-label="Sign up"] button[type=submit]');
  await page.locator('[data-testid=me]').waitFor();
  await page.locator('[data-testid=live][data-live=true]').waitFor();
}

const history = (page) => page.locator('[data-testid=history] [data-testid=message] .body');
async function texts(page) {
  return history(page).allTextContents();
}
async function waitTexts(page, want) {
  const deadline = Date.now() + TIMEOUT;
  let got;
  while (Date.now() < deadline) {
    got = await texts(page);
    if (JSON.stringify(got) === JSON.stringify(want)) return;
    await page.waitForTimeout(100);
  }
  throw new Error(`history shows ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

let status = 0;
try {
  const suffix = randomBytes(3).toString('hex');
  const alice = `alice_${suffix}`;
  const bob = `bob_${suffix}`;

  step('A and B sign up in two browser contexts');
  const a = await open('A');
  const b = await open('B');
  await signUp(a, alice, 'Alice');
  await signUp(b, bob, 'Bob');

  step('A starts a conversation with B and sends 6 messages');
  await a.fill('input[name=peer]', bob);
  // A new account reaches user search within moments: try again until then.
  for (let deadline = Date.now() + TIMEOUT; ; ) {
    await a.locator('form[aria-label="Start a chat"] button:not([disabled])').click();
    try {
      await a.locator('section[aria-label="Bob"]').waitFor({ timeout: 1000 });
      break;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
  }
  const sent = [];
  for (let i = 1; i <= 6; i++) {
    sent.push(`message ${i} from Alice`);
    await a.fill('[data-testid=composer]', sent[i - 1]);
    await a.press('[data-testid=composer]', 'Enter');
    await waitTexts(a, sent);
  }

  step('B sees the conversation live, with 6 unread');
  await b.locator('[data-testid=conversation]', { hasText: 'Alice' }).locator('[data-testid=unread]', { hasText: /^6$/ }).waitFor();

  step('B opens it: the newest 5, then the older one on demand');
  await b.locator('[data-testid=conversation]', { hasText: 'Alice' }).click();
  await waitTexts(b, sent.slice(1));
  await b.getByRole('button', { name: 'Load older messages' }).click();
  await waitTexts(b, sent);
  await b.locator('[data-testid=unread]').waitFor({ state: 'detached' });

  step('A sees that B read its messages');
  await a.locator('[data-testid=receipt]', { hasText: 'Read' }).nth(5).waitFor();

  step('B types: A sees it; B sends: A sees it live and B sees it read');
  await b.fill('[data-testid=composer]', 'hi Al');
  await a.locator('[data-testid=typing]', { hasText: 'Bob is typing' }).waitFor();
  await b.fill('[data-testid=composer]', 'hi Alice, got them all');
  await b.press('[data-testid=composer]', 'Enter');
  await waitTexts(a, [...sent, 'hi Alice, got them all']);
  await b.locator('.message.mine [data-testid=receipt]', { hasText: 'Read' }).waitFor();
  await a.locator('[data-testid=typing]', { hasText: /^$/ }).waitFor();

  step('A comes back with an expired resume cursor: it resyncs and is live again');
  await a.evaluate(() => {
    for (const k of Object.keys(sessionStorage)) {
      // "oldepoch.1": a cursor from before a restart of the event log.
      if (k.startsWith('messenger.cursor.')) sessionStorage.setItem(k, 'b2xkZXBvY2guMQ');
    }
  });
  const resynced = a.waitForEvent('console', { predicate: (m) => m.text().includes('resume cursor expired') });
  await a.reload();
  await resynced;
  await a.locator('[data-testid=live][data-live=true]').waitFor();
  await b.fill('[data-testid=composer]', 'are you back?');
  await b.press('[data-testid=composer]', 'Enter');
  const row = a.locator('[data-testid=conversation]', { hasText: 'Bob' });
  await row.locator('[data-testid=unread]', { hasText: /^1$/ }).waitFor();
  await row.locator('.preview', { hasText: 'are you back?' }).waitFor();

  if (pageErrors.length) throw new Error(`uncaught errors in the page: ${pageErrors.join('; ')}`);
  if (process.env.E2E_SCREENSHOTS) {
    await mkdir(ARTIFACTS, { recursive: true });
    for (const [name, page] of Object.entries(pages)) await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
  }
  console.log('e2e: PASS');
} catch (err) {
  status = 1;
  console.error(`e2e: FAIL: ${err.stack || err}`);
  await mkdir(ARTIFACTS, { recursive: true });
  for (const [name, page] of Object.entries(pages)) {
    await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true }).catch(() => {});
    log(`${name} url: ${page.url()}`);
  }
  await writeFile(join(ARTIFACTS, 'browser.log'), logs.join('\n') + '\n');
  console.error(`e2e: artifacts in ${ARTIFACTS}`);
} finally {
  await browser.close();
  server.close();
}
process.exit(status);
