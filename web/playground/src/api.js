// Small client for the messenger API: endpoints, sign-in mutations and the
// per-tab session kept in sessionStorage.
import { createClient } from 'graphql-ws';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { getOperationAST, parse } from 'graphql';

/** Same-origin HTTP endpoint. */
export const httpUrl = new URL('/graphql', window.location.origin).href;

/** Same-origin websocket endpoint (ws:// or wss:// following the page). */
export const wsUrl =
  (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/graphql';

const SESSION_KEY = 'messenger-playground.session';

/**
 * Session of this browser tab: `{ token, username }` or null. It lives in
 * sessionStorage so two tabs can be signed in as two different users.
 */
export function loadSession() {
  try {
    const s = JSON.parse(window.sessionStorage.getItem(SESSION_KEY) || 'null');
    return s && typeof s.token === 'string' && s.token ? s : null;
  } catch {
    return null;
  }
}

/** Persists (or with null, clears) the session of this tab. */
export function saveSession(session) {
  if (session) window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else window.sessionStorage.removeItem(SESSION_KEY);
}

function authHeaders(token) {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Error carrying the first GraphQL error's message and `extensions.code`. */
export class ApiError extends Error {
  constructor(message, code) {
    super(message);
    this.name = 'ApiError';
    this.code = code || '';
  }
}

/**
 * Runs one GraphQL operation over HTTP and returns `data`, or throws an
 * ApiError built from `errors[0]`.
 */
export async function request(query, variables, token) {
  let res;
  try {
    res = await fetch(httpUrl, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Accept: 'application/graphql-response+json, application/json',
        ...authHeaders(token),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (err) {
    throw new ApiError(`Network error: ${err.message}`, 'NETWORK_ERROR');
  }
  let body;
  try {
    body = await res.json();
  } catch {
    throw new ApiError(`HTTP ${res.status} ${res.statusText}: response is not JSON`, 'BAD_RESPONSE');
  }
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    const e = body.errors[0] || {};
    throw new ApiError(e.message || 'Unknown error', e.extensions && e.extensions.code);
  }
  if (!res.ok) throw new ApiError(`HTTP ${res.status} ${res.statusText}`, 'HTTP_ERROR');
  return (body && body.data) || {};
}

const SIGN_UP = `mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) { token expiresAt refreshToken user { id username displayName } }
}`;

const LOG_IN = `mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { token expiresAt refreshToken user { id username displayName } }
}`;

const REFRESH = `mutation Refresh($refreshToken: String!) {
  refreshToken(refreshToken: $refreshToken) { token expiresAt refreshToken user { id username displayName } }
}`;

const LOG_OUT = `mutation LogOut { logOut }`;

/** What the playground tells the server about this device (sessions list). */
const DEVICE = { deviceName: 'Playground', platform: 'web' };

const ME = `query Me { me { id username displayName } }`;

/** Creates an account and returns `{ token, user }`. */
export async function signUp(username, password, displayName) {
  const data = await request(SIGN_UP, { input: { username, password, displayName, ...DEVICE } });
  return data.signUp;
}

/** Logs in and returns `{ token, user }`. */
export async function logIn(username, password) {
  const data = await request(LOG_IN, { input: { username, password, ...DEVICE } });
  return data.logIn;
}

/**
 * Trades a refresh token for new tokens and returns `{ token, refreshToken,
 * user }`. Each refresh token works once: a second use ends the session.
 */
export async function refresh(refreshToken) {
  const data = await request(REFRESH, { refreshToken });
  return data.refreshToken;
}

/** Ends the session of token on the server (best effort). */
export async function logOut(token) {
  try {
    await request(LOG_OUT, {}, token);
  } catch {
    // signed out here whatever the server says
  }
}

/**
 * Milliseconds until a session's access token should be refreshed: one
 * minute before it expires (at once if that is past), or null when the
 * session cannot refresh (a pasted token has no refresh token).
 */
export function refreshDelay(session) {
  if (!session || !session.refreshToken) return null;
  const exp = tokenExpiry(session.token);
  if (!exp) return null;
  return Math.max(0, exp.getTime() - Date.now() - 60_000);
}

/** Returns the user a token belongs to (used when a token is pasted). */
export async function me(token) {
  const data = await request(ME, {}, token);
  return data.me;
}

const SEARCH_USERS = `query PickUser($query: String!) {
  searchUsers(query: $query, first: 10) { edges { node { id username displayName } } }
}`;

/** Users whose username or display name starts with `query` (up to 10). */
export async function searchUsers(query, token) {
  const data = await request(SEARCH_USERS, { query }, token);
  return data.searchUsers.edges.map((e) => e.node);
}

/** Shown instead of opening a websocket when no one is signed in. */
export const SIGNED_OUT_MESSAGE =
  'Sign in first: use the sign-in helper above (Sign up, Log in or paste a token), then run the subscription again.';

/**
 * Expiry of a JWT as a Date, or null when the token carries none (or is not
 * a JWT). The playground only reads it to explain a refusal; the server
 * decides.
 */
export function tokenExpiry(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(part));
    return typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : null;
  } catch {
    return null;
  }
}

function expiredMessage(at) {
  return `Your token expired${at ? ` at ${at.toLocaleTimeString()}` : ''}: log in again with the sign-in helper above, then run the subscription again.`;
}

// Close codes of the server (gqlws): 4403 refuses connection_init or ends a
// socket whose token expired; 4401 a subscribe before connection_ack.
function describeFailure(err, token) {
  const code = err && typeof err.code === 'number' ? err.code : 0;
  if (code === 4403 || code === 4401) {
    const at = tokenExpiry(token);
    if (at && at.getTime() <= Date.now()) return expiredMessage(at);
    return `The server refused this token (${code}${err.reason ? `: ${err.reason}` : ''}): log in again with the sign-in helper above.`;
  }
  if (code) return `The connection closed (${code}${err.reason ? `: ${err.reason}` : ''}); run the subscription again.`;
  return `Subscription failed: ${(err && err.message) || String(err)}`;
}

function isSubscription(params) {
  try {
    const op = getOperationAST(parse(params.query), params.operationName || undefined);
    return !!op && op.operation === 'subscription';
  } catch {
    return false; // the HTTP fetcher reports the syntax error
  }
}

/**
 * Wraps graphql-ws's iterator: every result goes to onEvent, and a refused
 * or failed socket ends the subscription with one readable error result
 * instead of a thrown CloseEvent (which GraphiQL shows as a stack trace).
 */
function loggedResults(inner, token, onEvent, onNotice) {
  let done = false;
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (done) return { done: true, value: undefined };
      try {
        const r = await inner.next();
        if (r.done) {
          done = true;
          return r;
        }
        onEvent(r.value);
        return r;
      } catch (err) {
        done = true;
        if (Array.isArray(err)) return { done: false, value: { errors: err } };
        const message = describeFailure(err, token);
        onNotice(message);
        return { done: false, value: { errors: [{ message }] } };
      }
    },
    async return() {
      done = true;
      await inner.return?.();
      return { done: true, value: undefined };
    },
  };
}

/**
 * Builds the GraphiQL fetcher for a token: HTTP requests carry
 * `Authorization: Bearer <token>`, subscriptions go over a graphql-ws client
 * (subprotocol graphql-transport-ws) whose connection_init payload carries the
 * same header. Every subscription result is passed to `onEvent`; a
 * subscription that cannot run (signed out, token expired or refused) ends
 * with a readable error, also passed to `onNotice`. Call `dispose()` when the
 * token changes so the socket authenticated as the previous user is closed.
 */
export function createConnection(token, { onEvent = () => {}, onNotice = () => {} } = {}) {
  const wsClient = createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: () => authHeaders(token),
    retryAttempts: 3,
    // A refused token stays refused: retrying only delays the message.
    shouldRetry: (e) => !(e && (e.code === 4401 || e.code === 4403)),
  });
  const httpFetcher = createGraphiQLFetcher({
    url: httpUrl,
    headers: authHeaders(token),
    // The API answers plain JSON; skip multipart/incremental delivery.
    enableIncrementalDelivery: false,
  });
  const refuse = (message) => {
    onNotice(message);
    return Promise.resolve({ errors: [{ message }] });
  };
  const fetcher = (params, opts) => {
    if (!isSubscription(params)) return httpFetcher(params, opts);
    if (!token) return refuse(SIGNED_OUT_MESSAGE);
    const exp = tokenExpiry(token);
    if (exp && exp.getTime() <= Date.now()) return refuse(expiredMessage(exp));
    onNotice('');
    const inner = wsClient.iterate({
      query: params.query,
      variables: params.variables ?? undefined,
      operationName: params.operationName ?? undefined,
    });
    return loggedResults(inner, token, onEvent, onNotice);
  };
  return { fetcher, dispose: () => wsClient.dispose() };
}
