// Connecting to the API: anonymous requests (sign-up, log-in), then, once
// signed in, an Apollo Client over HTTP and the events stream over
// graphql-ws, both from the kit.
import { ApolloClient, HttpLink } from '@apollo/client';
import { resumeEvents, type Event, type EventStream, type TypedDocumentNode } from '@messenger/client';
import { applyEvent, createCache } from '@messenger/client/apollo';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';

const params = new URLSearchParams(location.search);

/** The API's base URL: ?api=http://127.0.0.1:8080, else the page's own host on 8080. */
export const API = (params.get('api') ?? `${location.protocol}//${location.hostname}:8080`).replace(/\/+$/, '');

/** History page size (?page=N; default 30). */
export const PAGE = Number(params.get('page') ?? 30);

/** One anonymous GraphQL request, typed by the kit's generated document. */
export async function request<R, V>(doc: TypedDocumentNode<R, V>, variables: V): Promise<R> {
  const res = await fetch(`${API}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: print(doc), variables }),
  });
  const body = (await res.json()) as { data?: R; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data as R;
}

/** A signed-in session. */
export interface Session {
  token: string;
  userId: string;
  username: string;
  displayName: string;
}

/** What a signed-in page talks through. */
export interface Connection {
  apollo: ApolloClient;
  ws: Client;
  events: EventStream;
  /** Listen to every event (after the cache has taken it); returns an unlisten. */
  listen(fn: (e: Event) => void): () => void;
  /** Listen to the socket going up (true) or down (false); returns an unlisten. */
  onLive(fn: (live: boolean) => void): () => void;
  close(): void;
}

const cursorKey = (s: Session) => `messenger.cursor.${s.userId}`;

/** Opens the HTTP client and the resumable events stream for a session. */
export function connect(session: Session): Connection {
  const auth = `Bearer ${session.token}`;
  const cache = createCache();
  const apollo = new ApolloClient({ cache, link: new HttpLink({ uri: `${API}/graphql`, headers: { Authorization: auth } }) });
  const ws = createClient({ url: `${API.replace(/^http/, 'ws')}/graphql`, connectionParams: { Authorization: auth }, retryAttempts: 20 });
  const listeners = new Set<(e: Event) => void>();
  const events = resumeEvents(ws, {
    after: sessionStorage.getItem(cursorKey(session)),
    onEvent(e) {
      applyEvent(cache, e, { me: session.userId });
      for (const fn of listeners) fn(e);
    },
    onCursor(c) {
      if (c) sessionStorage.setItem(cursorKey(session), c);
      else sessionStorage.removeItem(cursorKey(session));
    },
    resync: () => {
      console.info('events: the resume cursor expired; refetching what is on screen');
      return apollo.refetchQueries({ include: 'active' });
    },
  });
  return {
    apollo,
    ws,
    events,
    listen(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    onLive(fn) {
      const up = ws.on('connected', () => fn(true));
      const down = ws.on('closed', () => fn(false));
      return () => {
        up();
        down();
      };
    },
    close() {
      events.stop();
      void ws.dispose();
      apollo.stop();
    },
  };
}
