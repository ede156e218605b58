// The events the kit's subscription (src/operations/events.graphql) delivers,
// and how to recognise the one error a client must act on: CURSOR_EXPIRED.
import type { EventsSubscription } from './generated/graphql.js';

/** One event of the kit's Events subscription. */
export type Event = EventsSubscription['events'];

/** The event of one type, e.g. `EventOf<'MessageAdded'>`. */
export type EventOf<T extends Event['__typename']> = Extract<Event, { __typename: T }>;

/** The error code of a resume cursor older than the server keeps. */
export const CURSOR_EXPIRED = 'CURSOR_EXPIRED';

interface CodedError {
  extensions?: { code?: unknown } | null;
}

function codes(x: unknown): unknown[] {
  if (Array.isArray(x)) return x.flatMap(codes);
  if (x === null || typeof x !== 'object') return [];
  const o = x as CodedError & { errors?: unknown; graphQLErrors?: unknown };
  const own = o.extensions && typeof o.extensions === 'object' ? [o.extensions.code] : [];
  return [...own, ...codes(o.errors), ...codes(o.graphQLErrors)];
}

/**
 * Whether x says the resume cursor expired. It accepts whatever a client
 * hands you: a `next` payload with `errors` (how the server refuses an
 * expired cursor at subscribe time), the errors array of an `error`
 * message (how it ends a subscription whose cursor expires later), or an
 * error object with `errors`/`graphQLErrors` (Apollo, urql).
 */
export function isCursorExpired(x: unknown): boolean {
  return codes(x).includes(CURSOR_EXPIRED);
}

/** Whether an event can be resumed from: not ephemeral, and has a cursor. */
export function isDurable(e: Pick<Event, 'cursor' | 'ephemeral'>): boolean {
  return !e.ephemeral && e.cursor !== '';
}
