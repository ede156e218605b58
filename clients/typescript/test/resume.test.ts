import { describe, expect, it, vi } from 'vitest';

import { isCursorExpired } from '../src/events.js';
import { resumeEvents, type EventsClient, type EventsPayload, type EventsResult } from '../src/resume.js';
import { added, message, type Event } from './fixtures.js';

type Sink = Parameters<EventsClient['subscribe']>[1];

/** Records subscriptions as graphql-ws would run them. */
class FakeClient implements EventsClient {
  subs: { payload: EventsPayload; sink: Sink; disposed: boolean }[] = [];
  subscribe(payload: EventsPayload, sink: Sink) {
    const s = { payload, sink, disposed: false };
    this.subs.push(s);
    return () => {
      s.disposed = true;
    };
  }
  get last() {
    return this.subs[this.subs.length - 1];
  }
  /** What graphql-ws sends when it re-subscribes after a reconnect: the same payload object, serialized again. */
  resent(i = this.subs.length - 1): EventsPayload {
    return JSON.parse(JSON.stringify(this.subs[i].payload));
  }
  push(event: Event, i = this.subs.length - 1) {
    this.subs[i].sink.next({ data: { events: event } });
  }
}

const typing: Event = {
  __typename: 'TypingUpdated',
  cursor: '',
  ephemeral: true,
  conversationId: 'c1',
  typing: true,
  expiresAt: null,
  user: { __typename: 'User', id: 'u', username: 'u', displayName: 'U' },
};

const expired = { message: 'cursor expired', extensions: { code: 'CURSOR_EXPIRED' } };

function start(client: FakeClient, after: string | null, resync: () => unknown = () => undefined) {
  const events: Event[] = [];
  const cursors: (string | null)[] = [];
  const errors: unknown[] = [];
  const stream = resumeEvents(client, {
    after,
    onEvent: (e) => events.push(e),
    onCursor: (c) => cursors.push(c),
    onError: (e) => errors.push(e),
    resync,
  });
  return { stream, events, cursors, errors };
}

describe('resumeEvents', () => {
  it('resubscribes after a dropped socket from the last durable event, not from where it started', () => {
    const client = new FakeClient();
    const { stream, events, cursors } = start(client, 'c0');
    expect(client.resent().variables).toEqual({ after: 'c0' });
    expect(client.last.payload.query).toContain('subscription Events');

    client.push(added(message('c1', 1), 'c1'));
    client.push(typing); // ephemeral: never a resume point
    client.push(added(message('c1', 2), 'c2'));

    expect(events.map((e) => e.__typename)).toEqual(['MessageAdded', 'TypingUpdated', 'MessageAdded']);
    expect(cursors).toEqual(['c1', 'c2']);
    expect(stream.cursor).toBe('c2');
    expect(client.resent().variables).toEqual({ after: 'c2' });
    expect(client.subs).toHaveLength(1);
  });

  it('starts live when it has no cursor', () => {
    const client = new FakeClient();
    start(client, null);
    expect(client.resent().variables).toEqual({});
  });

  for (const [how, refuse] of [
    ['a next with errors (at subscribe time)', (s: Sink) => s.next({ data: null, errors: [expired] } as EventsResult)],
    ['an error message (mid-stream)', (s: Sink) => s.error([expired])],
  ] as const) {
    it(`handles CURSOR_EXPIRED sent as ${how}: resync, subscribe fresh, deliver what arrived meanwhile after it`, async () => {
      const client = new FakeClient();
      let finish!: () => void;
      const resync = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
      const { stream, events, cursors, errors } = start(client, 'old', resync);

      refuse(client.subs[0].sink);
      expect(client.subs[0].disposed).toBe(true);
      expect(client.subs).toHaveLength(2);
      expect(client.resent(1).variables).toEqual({});
      expect(cursors).toEqual([null]);
      expect(stream.cursor).toBeNull();
      await Promise.resolve();
      expect(resync).toHaveBeenCalledTimes(1);
      expect(stream.resyncing).toBe(true);

      client.push(added(message('c1', 7), 'n1'));
      expect(events).toEqual([]); // held: the refetch may not have landed yet
      finish();
      await vi.waitFor(() => expect(events).toHaveLength(1));
      expect(stream.resyncing).toBe(false);
      expect(stream.cursor).toBe('n1');
      expect(client.resent(1).variables).toEqual({ after: 'n1' });

      client.push(added(message('c1', 8), 'n2'));
      expect(events.map((e) => e.cursor)).toEqual(['n1', 'n2']);
      expect(errors).toEqual([]);
    });
  }

  it('reports other errors without resyncing, and calls nothing once stopped', () => {
    const client = new FakeClient();
    const resync = vi.fn();
    const { stream, events, errors } = start(client, null, resync);
    client.last.sink.next({ data: null, errors: [{ message: 'boom', extensions: { code: 'INTERNAL' } }] } as EventsResult);
    expect(errors).toHaveLength(1);
    expect(resync).not.toHaveBeenCalled();
    stream.stop();
    expect(client.last.disposed).toBe(true);
    client.push(added(message('c1', 1), 'x'));
    expect(events).toEqual([]);
  });

  it('keeps going when the event handler throws', () => {
    const client = new FakeClient();
    const errors: unknown[] = [];
    const stream = resumeEvents(client, {
      onEvent: () => {
        throw new Error('bad handler');
      },
      onError: (e) => errors.push(e),
      resync: () => undefined,
    });
    client.push(added(message('c1', 1), 'k1'));
    expect(errors).toHaveLength(1);
    expect(stream.cursor).toBe('k1');
  });
});

describe('isCursorExpired', () => {
  it('recognises CURSOR_EXPIRED however a client wraps it', () => {
    expect(isCursorExpired({ errors: [expired] })).toBe(true); // graphql-ws next payload, Apollo
    expect(isCursorExpired([expired])).toBe(true); // graphql-ws error message
    expect(isCursorExpired({ graphQLErrors: [expired] })).toBe(true); // urql CombinedError
    expect(isCursorExpired({ errors: [{ message: 'x', extensions: { code: 'BAD_USER_INPUT' } }] })).toBe(false);
    expect(isCursorExpired(new Error('CURSOR_EXPIRED'))).toBe(false);
    expect(isCursorExpired(undefined)).toBe(false);
  });
});
