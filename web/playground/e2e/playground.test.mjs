// Real-browser test of the playground page against a running API.
//
//   PLAYGROUND_URL=http://127.0.0.1:8080 node e2e/playground.test.mjs
//
// (e2e/run.sh builds and starts the API and runs this.) It drives Debian's
// Chromium through playwright-core and checks that:
//   - every request the page makes (HTTP, workers, websockets) goes to the
//     API's host, nothing else;
//   - signing up in the panel works and GraphiQL then runs "Me" as that user;
//   - subscribing signed out shows "Sign in first" (no socket, no spinner);
//   - user A's "Events" subscription receives the messages user B (a second
//     browser context) sends in a direct conversation B started from the
//     People picker (no id copied), and the event log lists them all;
//   - the websocket connection_init carries the signed-in user's token, and
//     switching user (pasting another token) opens a new socket for it;
//   - API errors are shown in the panel.
// On failure, screenshots and logs are written to e2e/artifacts/.
import { chromium } from 'playwright-core';
import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const BASE = (process.env.PLAYGROUND_URL || '').replace(/\/+$/, '');
if (!BASE) {
  console.error('PLAYGROUND_URL is not set (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const API = new URL(BASE);
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));
const TIMEOUT = Number(process.env.PLAYGROUND_TIMEOUT_MS || 20000);

const violations = []; // requests to other hosts
const logs = []; // console / page errors, websocket frames
const pages = [];

function log(line) {
  logs.push(`${new Date().toISOString()} ${line}`);
}

function step(msg) {
  console.log(`e2e: ${msg}`);
  log(`STEP ${msg}`);
}

function allowed(url) {
  let u;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || url === 'about:blank') return true;
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) return false;
  return u.host === API.host;
}

function watchViolation(kind, url) {
  if (!allowed(url)) {
    violations.push(`${kind} ${url}`);
    log(`VIOLATION ${kind} ${url}`);
  }
}

const rand = () => randomBytes(4).toString('hex');

/** Opens a browser context + page wired for request recording. */
async function openPage(browser, label) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Every request of the context (page, workers) is checked; foreign ones
  // are recorded and aborted so nothing actually leaves the machine.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (!allowed(url)) {
      watchViolation(`${label} route`, url);
      return route.abort('blockedbyclient');
    }
    return route.continue();
  });
  context.on('request', (req) => watchViolation(`${label} request`, req.url()));
  const page = await context.newPage();
  page.on('request', (req) => watchViolation(`${label} page-request`, req.url()));
  page.on('console', (m) => {
    log(`${label} console.${m.type()}: ${m.text()}`);
    if (/Content Security Policy|Refused to (load|connect|execute|apply)/i.test(m.text())) {
      violations.push(`${label} CSP: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => log(`${label} pageerror: ${e.message}`));
  page.on('worker', (w) => {
    watchViolation(`${label} worker`, w.url());
    log(`${label} worker ${w.url()}`);
  });
  const sockets = [];
  page.on('websocket', (ws) => {
    watchViolation(`${label} websocket`, ws.url());
    const rec = { url: ws.url(), sent: [], received: [], closed: false };
    sockets.push(rec);
    log(`${label} websocket open ${ws.url()}`);
    ws.on('framesent', (f) => {
      rec.sent.push(String(f.payload));
      log(`${label} ws> ${String(f.payload).slice(0, 300)}`);
    });
    ws.on('framereceived', (f) => {
      rec.received.push(String(f.payload));
      log(`${label} ws< ${String(f.payload).slice(0, 300)}`);
    });
    ws.on('close', () => {
      rec.closed = true;
      log(`${label} websocket closed ${ws.url()}`);
    });
  });
  const entry = { label, context, page, sockets };
  pages.push(entry);
  return entry;
}

async function openPlayground(entry) {
  const res = await entry.page.goto(`${BASE}/playground`, { waitUntil: 'load' });
  if (!res || res.status() !== 200) throw new Error(`GET /playground: status ${res && res.status()}`);
  await entry.page.waitForSelector('#pg-username', { timeout: TIMEOUT });
  // Monaco and GraphiQL are loaded lazily; wait for the editors.
  await entry.page.waitForFunction(
    () => globalThis.__MONACO && globalThis.__MONACO.editor.getModels().some((m) => m.uri.path.endsWith('response.json')),
    null,
    { timeout: TIMEOUT },
  );
  await entry.page.waitForSelector('.graphiql-query-editor .monaco-editor', { timeout: TIMEOUT });
  // Record every value the response pane takes: a subscription replaces the
  // pane with each new event, so a later event may hide an earlier one.
  await entry.page.evaluate(() => {
    const m = globalThis.__MONACO.editor.getModels().find((x) => x.uri.path.endsWith('response.json'));
    globalThis.__pgResponses = [];
    m.onDidChangeContent(() => globalThis.__pgResponses.push(m.getValue()));
  });
}

/** Waits until some value the response pane has shown satisfies `until`. */
async function waitShown(entry, until, what) {
  const deadline = Date.now() + TIMEOUT;
  let seen = [];
  while (Date.now() < deadline) {
    seen = await entry.page.evaluate(() => globalThis.__pgResponses || []);
    const hit = seen.find((t) => t && until(t));
    if (hit) return hit;
    await entry.page.waitForTimeout(100);
  }
  throw new Error(`${entry.label}: ${what}: the response pane never showed it; it showed:\n${seen.filter(Boolean).join('\n---\n') || '(nothing)'}`);
}

async function signUp(entry, username, password) {
  const { page } = entry;
  await page.fill('#pg-username', username);
  await page.fill('#pg-password', password);
  await page.fill('#pg-displayname', `E2E ${username}`);
  await page.click('#pg-signup');
  await waitStatus(entry, `Signed in as ${username}`);
  const token = await page.inputValue('#pg-token');
  if (!token) throw new Error('no token shown in #pg-token after sign-up');
  return token;
}

async function waitStatus(entry, text) {
  try {
    await entry.page.waitForFunction(
      (t) => (document.querySelector('#pg-status')?.textContent || '').includes(t),
      text,
      { timeout: TIMEOUT },
    );
  } catch (err) {
    const status = await entry.page.textContent('#pg-status').catch(() => '?');
    throw new Error(`${entry.label}: #pg-status never showed "${text}"; it shows "${status}"`);
  }
}

/** Text of one of GraphiQL's Monaco models: operation, variables, response. */
function modelValue(entry, name) {
  return entry.page.evaluate(
    (n) => globalThis.__MONACO.editor.getModels().find((m) => m.uri.path.endsWith(`${n}`))?.getValue() ?? '',
    name,
  );
}

async function setVariables(entry, obj) {
  await entry.page.evaluate((text) => {
    const m = globalThis.__MONACO.editor.getModels().find((x) => x.uri.path.endsWith('variables.json'));
    m.setValue(text);
  }, JSON.stringify(obj, null, 2));
  await entry.page.waitForTimeout(300); // let GraphiQL pick up the edit
}

async function selectTab(entry, title) {
  await entry.page.click(`.graphiql-tab-button[title="${title}"]`);
  await entry.page.waitForFunction(
    (t) => document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.getAttribute('title') === t,
    title,
    { timeout: TIMEOUT },
  );
  // GraphiQL re-parses the operation (name, AST) shortly after the editor
  // content changes; running before that would use the previous tab's name.
  await entry.page.waitForTimeout(750);
}

/** Runs the active tab and waits until the response satisfies `until`. */
async function execute(entry, until, what) {
  const { page } = entry;
  // Start from an empty response so the wait sees this run's result.
  await page.evaluate(() => {
    globalThis.__MONACO.editor.getModels().find((x) => x.uri.path.endsWith('response.json'))?.setValue('');
  });
  await page.click('.graphiql-execute-button');
  return waitResponse(entry, until, what);
}

async function waitResponse(entry, until, what) {
  const deadline = Date.now() + TIMEOUT;
  let text = '';
  while (Date.now() < deadline) {
    text = await modelValue(entry, 'response.json');
    if (text && until(text)) return text;
    await entry.page.waitForTimeout(100);
  }
  throw new Error(`${entry.label}: ${what}: response pane shows:\n${text}`);
}

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function initPayloads(entry) {
  return entry.sockets.map((s) => {
    const init = s.sent.map(parse).find((m) => m && m.type === 'connection_init');
    return init ? init.payload || {} : null;
  });
}

async function waitFor(cond, what, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const password = `pw-${rand()}-${rand()}`;
    const userA = `e2e_a_${rand()}`;
    const userB = `e2e_b_${rand()}`;

    step('page A: open /playground');
    const A = await openPage(browser, 'A');
    await openPlayground(A);

    step('page A: subscribing signed out explains how to sign in, without opening a socket');
    await selectTab(A, 'Events');
    await A.page.click('.graphiql-execute-button');
    await A.page.waitForSelector('#pg-event-notice', { timeout: TIMEOUT });
    const notice = (await A.page.textContent('#pg-event-notice')) || '';
    if (!notice.includes('Sign in first')) throw new Error(`signed-out notice: "${notice}"`);
    await waitShown(A, (t) => t.includes('Sign in first'), 'the signed-out message in the response pane');
    if (A.sockets.length) throw new Error('a websocket was opened while signed out');
    if (await A.page.$('.graphiql-execute-button .graphiql-spinner, .graphiql-spinner')) {
      // GraphiQL shows a spinner only while a request is in flight.
      throw new Error('a spinner is still shown after the signed-out message');
    }

    step(`page A: sign up ${userA}`);
    const tokenA = await signUp(A, userA, password);

    step('page A: run "Me"');
    await selectTab(A, 'Me');
    const meText = await execute(A, (t) => t.includes(userA) || t.includes('"errors"'), 'Me');
    const me = parse(meText);
    if (!me || !me.data || !me.data.me || me.data.me.username !== userA) {
      throw new Error(`Me returned:\n${meText}`);
    }


    step('page A: start the "Events" subscription');
    await selectTab(A, 'Events');
    await A.page.click('.graphiql-execute-button');
    await waitFor(
      () => A.sockets.some((s) => s.sent.some((f) => parse(f)?.type === 'subscribe') && s.received.some((f) => parse(f)?.type === 'connection_ack')),
      'page A websocket: connection_ack and subscribe',
    );
    const socketA = A.sockets.find((s) => s.sent.some((f) => parse(f)?.type === 'subscribe'));
    const initA = initPayloads(A).find(Boolean);
    if (!initA || initA.Authorization !== `Bearer ${tokenA}`) {
      throw new Error(`page A connection_init payload ${JSON.stringify(initA)}, want Authorization: Bearer <token of ${userA}>`);
    }
    if (new URL(socketA.url).pathname !== '/graphql') throw new Error(`websocket URL ${socketA.url}`);
    // Give the server a moment to register the subscription before sending.
    await A.page.waitForTimeout(500);

    step('page B: open /playground in a second browser context');
    const B = await openPage(browser, 'B');
    await openPlayground(B);

    step('page B: signing up an existing username shows the API error');
    await B.page.fill('#pg-username', userA);
    await B.page.fill('#pg-password', password);
    await B.page.fill('#pg-displayname', 'dup');
    await B.page.click('#pg-signup');
    await B.page.waitForSelector('#pg-error', { timeout: TIMEOUT });
    const dupError = (await B.page.textContent('#pg-error')) || '';
    if (!dupError.trim()) throw new Error('empty #pg-error after duplicate sign-up');
    console.log(`e2e:   error shown: ${dupError}`);
    if ((await B.page.textContent('#pg-status')).includes('Signed in as')) {
      throw new Error('page B claims to be signed in after a failed sign-up');
    }

    step(`page B: sign up ${userB}`);
    const tokenB = await signUp(B, userB, password);
    if (tokenB === tokenA) throw new Error('both users got the same token');

    step('page B: the People picker finds A and starts a direct conversation');
    await B.page.click('[aria-label="Show People"]');
    await B.page.fill('#pg-user-search', userA);
    await B.page.click('#pg-user-search-go');
    await B.page.click(`#pg-user-results li[data-username="${userA}"] .pg-user-start`, { timeout: TIMEOUT });
    await B.page.waitForSelector('#pg-people-message', { timeout: TIMEOUT });
    await B.page.waitForFunction(
      () => document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.getAttribute('title') === 'SendMessage',
      null,
      { timeout: TIMEOUT },
    );
    let conversationId = '';
    await waitFor(async () => {
      conversationId = parse(await modelValue(B, 'variables.json'))?.input?.conversationId || '';
      return conversationId && conversationId !== '...';
    }, 'the picker to put the conversation id into the SendMessage variables');
    await B.page.waitForTimeout(750); // GraphiQL re-parses the operation name

    const bodies = [`hello from ${userB} ${rand()}`, `second from ${userB} ${rand()}`];
    for (const body of bodies) {
      step(`page B: "SendMessage" "${body}" (conversation id from the picker)`);
      const vars = parse(await modelValue(B, 'variables.json'));
      await setVariables(B, { ...vars, input: { ...vars.input, clientMessageId: `e2e-${rand()}`, body } });
      const sendText = await execute(B, (t) => t.includes('"sendMessage"') || t.includes('"errors"'), 'SendMessage');
      if (parse(sendText)?.data?.sendMessage?.body !== body) throw new Error(`sendMessage returned:\n${sendText}`);
    }
    const body = bodies[0];

    step('page A: the subscription shows the MessageAdded event');
    const eventText = await waitShown(A, (t) => t.includes(body), 'MessageAdded event');
    if (!eventText.includes('MessageAdded')) throw new Error(`event lacks __typename MessageAdded:\n${eventText}`);
    if (!eventText.includes(userB)) throw new Error(`event lacks the sender ${userB}:\n${eventText}`);

    step('page A: the event log lists every event, newest first, and clears');
    await A.page.waitForFunction(
      (want) => {
        const items = [...document.querySelectorAll('#pg-event-log li')].map((li) => li.textContent);
        const at = want.map((w) => items.findIndex((t) => t.includes(w)));
        return at.every((i) => i >= 0) && at[1] < at[0];
      },
      bodies,
      { timeout: TIMEOUT },
    ).catch(async () => {
      throw new Error(`event log shows:\n${await A.page.textContent('#pg-event-log')}`);
    });
    const logged = await A.page.$$eval('#pg-event-log li', (lis) => lis.map((li) => li.dataset.type));
    if (logged.filter((t) => t === 'MessageAdded').length < 2) throw new Error(`event log types: ${logged}`);
    console.log(`e2e:   event log: ${logged.join(', ')}`);
    await A.page.click('#pg-events-clear');
    await A.page.waitForFunction(() => document.querySelectorAll('#pg-event-log li').length === 0, null, { timeout: TIMEOUT });

    step('page A: log out closes the websocket of user A');
    await A.page.click('#pg-logout');
    await waitStatus(A, 'Not signed in');
    await waitFor(() => socketA.closed, 'the websocket of user A to close after log out');

    step(`page A: paste the token of ${userB}; the subscription reconnects as B`);
    await A.page.fill('#pg-token', tokenB);
    await A.page.click('#pg-token-use');
    await waitStatus(A, `Signed in as ${userB}`);
    const before = A.sockets.length;
    // The subscription ended with the old socket; run it again.
    await A.page.waitForSelector('.graphiql-execute-button', { timeout: TIMEOUT });
    await A.page.click('.graphiql-execute-button');
    await waitFor(() => A.sockets.length > before && initPayloads(A).at(-1) !== null, 'a new websocket with connection_init');
    const initB = initPayloads(A).at(-1);
    if (initB.Authorization !== `Bearer ${tokenB}`) {
      throw new Error(`after switching user, connection_init payload ${JSON.stringify(initB)}, want the token of ${userB}`);
    }

    step('page B: log in again with the password');
    await B.page.click('#pg-logout');
    await waitStatus(B, 'Not signed in');
    await B.page.fill('#pg-username', userB);
    await B.page.fill('#pg-password', password);
    await B.page.click('#pg-login');
    await waitStatus(B, `Signed in as ${userB}`);
    await selectTab(B, 'Me');
    await execute(B, (t) => t.includes(userB), 'Me after log in');

    const errors = logs.filter((l) => / (pageerror|console\.error): /.test(l));
    if (errors.length) console.log(`e2e: note: ${errors.length} console/page errors (see e2e/artifacts/log.txt)`);

    // Canary: a request to a foreign host must be noticed (blocked by the
    // page's Content-Security-Policy or recorded by the request watcher).
    if (violations.length === 0) {
      await A.page.evaluate(() => fetch('http://canary.invalid/x').catch(() => {}));
      await waitFor(() => violations.length > 0, 'the canary request to another host to be flagged', 5000);
      console.log(`e2e:   canary flagged: ${violations[0]}`);
      violations.length = 0;
    }

    if (violations.length) throw new Error(`requests to other hosts / CSP violations:\n  ${violations.join('\n  ')}`);
    step('PASS');
    await saveLog('PASS');
  } catch (err) {
    await saveArtifacts(err);
    throw err;
  } finally {
    await browser.close();
  }
}

async function saveLog(header) {
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(`${ARTIFACTS}log.txt`, `${header}\n\nviolations:\n${violations.join('\n')}\n\n${logs.join('\n')}\n`);
}

async function saveArtifacts(err) {
  try {
    await mkdir(ARTIFACTS, { recursive: true });
    for (const { label, page } of pages) {
      await page.screenshot({ path: `${ARTIFACTS}page-${label}.png`, fullPage: true }).catch(() => {});
    }
    await saveLog(`FAIL: ${err && err.stack}`);
    console.error(`e2e: artifacts saved in ${ARTIFACTS}`);
  } catch (e) {
    console.error('e2e: could not save artifacts:', e);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`e2e: FAIL: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
