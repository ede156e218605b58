// Small client for the messenger API: endpoints, sign-in mutations and the
// per-tab session kept in sessionStorage.
import { createClient } from 'graphql-ws';
import { createGraphiQLFetcher } from '@graphiql/toolkit';

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
  signUp(input: $input) { token user { id username displayName } }
}`;

const LOG_IN = `mutation LogIn($input: LogInInput!) {
  logIn(input: $input) { token user { id username displayName } }
}`;

const ME = `query Me { me { id username displayName } }`;

/** Creates an account and returns `{ token, user }`. */
export async function signUp(username, password, displayName) {
  const data = await request(SIGN_UP, { input: { username, password, displayName } });
  return data.signUp;
}

/** Logs in and returns `{ token, user }`. */
export async function logIn(username, password) {
  const data = await request(LOG_IN, { input: { username, password } });
  return data.logIn;
}

/** Returns the user a token belongs to (used when a token is pasted). */
export async function me(token) {
  const data = await request(ME, {}, token);
  return data.me;
}

/**
 * Builds the GraphiQL fetcher for a token: HTTP requests carry
 * `Authorization: Bearer <token>`, subscriptions go over a graphql-ws client
 * (subprotocol graphql-transport-ws) whose connection_init payload carries the
 * same header. Call `dispose()` when the token changes so the socket
 * authenticated as the previous user is closed.
 */
export function createConnection(token) {
  const wsClient = createClient({
    url: wsUrl,
    lazy: true,
    connectionParams: () => authHeaders(token),
    retryAttempts: 3,
  });
  const fetcher = createGraphiQLFetcher({
    url: httpUrl,
    headers: authHeaders(token),
    wsClient,
    // The API answers plain JSON; skip multipart/incremental delivery.
    enableIncrementalDelivery: false,
  });
  return { fetcher, dispose: () => wsClient.dispose() };
}
