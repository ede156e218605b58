// A resumable events subscription: it keeps the last cursor, resumes with
// `after` whenever the subscription is sent again, and turns CURSOR_EXPIRED
// into one callback (resync) followed by a fresh subscription.
import { print, type DocumentNode } from 'graphql';

import { isCursorExpired, isDurable, type Event } from './events.js';
import { EventsDocument } from './generated/graphql.js';

/** What the helper sends: a graphql-ws `subscribe` payload. */
export interface EventsPayload {
  query: string;
  variables: { after?: string };
}

/** A result as graphql-ws hands it to a sink's `next`. */
export interface EventsResult {
  data?: { events?: Event | null } | null;
  errors?: readonly unknown[];
}

/**
 * The part of a graphql-ws `Client` the helper uses (`createClient(...)`
 * satisfies it). Any transport with the same contract does too.
 */
export interface EventsClient {
  subscribe(
    payload: EventsPayload,
    sink: { next(value: EventsResult): void; error(error: unknown): void; complete(): void },
  ): () => void;
}

/** Options of resumeEvents. */
export interface ResumeOptions {
  /** Resume after this cursor (e.g. one onCursor saved before a reload); absent: live events from now. */
  after?: string | null;
  /** Called with each event, in order. Apply it to your cache (see apollo.ts, urql.ts). */
  onEvent(event: Event): void;
  /**
   * Called with the cursor to resume from after each durable event, and
   * with null when the cursor expired: save it to resume across reloads.
   */
  onCursor?(cursor: string | null): void;
  /**
   * Called when the cursor expired (CURSOR_EXPIRED): events were lost, so
   * bring what you show back in line with queries, e.g.
   * `() => apollo.refetchQueries({ include: 'active' })`. The helper has
   * already subscribed afresh; events that arrive before the returned
   * promise settles are held and delivered after it, in order.
   */
  resync(): unknown;
  /**
   * Any other error: GraphQL errors on an event, the subscription refused,
   * or the socket closed for good (graphql-ws gave up retrying). The stream
   * stops only in the last two cases. Default: console.error.
   */
  onError?(error: unknown): void;
  /** The subscription (default: the kit's Events). It must select `cursor` and `ephemeral` and take `$after`. */
  query?: DocumentNode | string;
}

/** A running events stream. */
export interface EventStream {
  /** The cursor it would resume from now (null: live only). */
  readonly cursor: string | null;
  /** Whether a resync is in progress (events are being held). */
  readonly resyncing: boolean;
  /** Unsubscribes; no callback is called afterwards. */
  stop(): void;
}

/**
 * Subscribes to events through client and keeps the subscription resumable.
 *
 * Resuming: the helper owns the payload it hands to client.subscribe and
 * moves its `variables.after` to each durable event's cursor once onEvent
 * has returned (an error thrown by onEvent goes to onError). graphql-ws re-sends that same payload object when it
 * reconnects after a dropped socket, so its own retries resume where the
 * stream stopped: no event missed, none twice.
 *
 * CURSOR_EXPIRED arrives either as a `next` whose payload has `errors`
 * (at subscribe time: a sink that only watches `error` misses it) or as an
 * `error` message (later); both lead to the same path: unsubscribe, forget
 * the cursor, subscribe without `after`, call resync, deliver what arrived
 * meanwhile.
 */
export function resumeEvents(client: EventsClient, options: ResumeOptions): EventStream {
  const query = typeof options.query === 'string' ? options.query : print(options.query ?? EventsDocument);
  const onError = options.onError ?? ((e: unknown) => console.error('events:', e));
  let cursor: string | null = options.after ?? null;
  let dispose: (() => void) | null = null;
  let stopped = false;
  let held: Event[] | null = null; // non-null while resyncing
  let generation = 0; // ignores callbacks of replaced subscriptions

  const deliver = (event: Event, payload: EventsPayload) => {
    if (held) {
      held.push(event);
      return;
    }
    try {
      options.onEvent(event);
    } catch (e) {
      onError(e);
    }
    if (isDurable(event)) {
      cursor = event.cursor;
      payload.variables.after = cursor;
      options.onCursor?.(cursor);
    }
  };

  const expired = () => {
    dispose?.();
    cursor = null;
    options.onCursor?.(null);
    held = [];
    start();
    Promise.resolve()
      .then(() => options.resync())
      .catch(onError)
      .finally(() => {
        const events = held ?? [];
        held = null;
        if (stopped) return;
        for (const e of events) deliver(e, current);
      });
  };

  let current: EventsPayload;
  const start = () => {
    const gen = ++generation;
    const payload: EventsPayload = { query, variables: cursor ? { after: cursor } : {} };
    current = payload;
    const live = () => !stopped && gen === generation;
    dispose = client.subscribe(payload, {
      next(result) {
        if (!live()) return;
        if (isCursorExpired(result)) return expired();
        if (result.errors?.length) onError(result.errors);
        if (result.data?.events) deliver(result.data.events, payload);
      },
      error(error) {
        if (!live()) return;
        if (isCursorExpired(error)) return expired();
        onError(error);
      },
      complete() {},
    });
  };
  start();

  return {
    get cursor() {
      return cursor;
    },
    get resyncing() {
      return held !== null;
    },
    stop() {
      stopped = true;
      held = null;
      dispose?.();
    },
  };
}
