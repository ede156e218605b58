import { Client, fetchExchange, subscriptionExchange, type AnyVariables } from '@urql/core';
import { cacheExchange } from '@urql/exchange-graphcache';
import { describe, expect, it } from 'vitest';

import { ConversationsDocument, EventsDocument, MessagesDocument } from '../src/generated/graphql.js';
import { graphcacheOptions } from '../src/urql.js';
import { ME, PEER, added, conversation, conversationsPage, deleted, message, messagesPage, readMoved, user, type Event } from './fixtures.js';

/** The key of an answer: operation name and variables, keys sorted. */
const answer = (name: string, vars: Record<string, unknown>) =>
  `${name} ${JSON.stringify(Object.fromEntries(Object.entries(vars).sort(([a], [b]) => a.localeCompare(b))))}`;

/** A urql client whose server answers from `answers` (see answer) and whose events the test pushes. */
function harness(answers: Record<string, unknown>) {
  let push: ((e: Event) => void) | null = null;
  const client = new Client({
    url: 'http://api.test/graphql',
    preferGetMethod: false,
    exchanges: [
      cacheExchange(graphcacheOptions({ me: ME })),
      subscriptionExchange({
        forwardSubscription: () => ({
          subscribe(sink) {
            push = (events) => sink.next({ data: { __typename: 'Subscription', events } });
            return { unsubscribe() {} };
          },
        }),
      }),
      fetchExchange,
    ],
    fetch: async (_url, init) => {
      const body = JSON.parse(String(init?.body));
      const key = answer(body.operationName, body.variables);
      if (!(key in answers)) throw new Error(`unexpected request ${key}`);
      return new Response(JSON.stringify({ data: answers[key] }), { headers: { 'Content-Type': 'application/json' } });
    },
  });
  client.subscription(EventsDocument, {}).subscribe(() => {});
  const query = <D, V extends AnyVariables>(doc: Parameters<Client['query']>[0], vars: V) =>
    client.query(doc, vars, { requestPolicy: 'cache-first' }).toPromise() as Promise<{ data?: D }>;
  const cached = <D,>(doc: Parameters<Client['readQuery']>[0], vars: AnyVariables) => client.readQuery(doc, vars)?.data as D | undefined;
  return {
    client,
    query,
    cached,
    push: (e: Event) => push!(e),
  };
}

async function seeded() {
  const h = harness({
    [answer('Conversations', { first: 20 })]: conversationsPage([conversation('c1', 5, 0), conversation('c2', 3, 1)]),
    [answer('Messages', { conversationId: 'c1', last: 2 })]: messagesPage('c1', [4, 5], { hasPrevious: true }),
    [answer('Messages', { conversationId: 'c1', last: 2, before: 's4' })]: messagesPage('c1', [2, 3], { hasPrevious: true, hasNext: true }),
  });
  await h.query(ConversationsDocument, { first: 20 });
  await h.query(MessagesDocument, { conversationId: 'c1', last: 2 });
  const list = () =>
    h.cached<{ conversations: { edges: { node: ReturnType<typeof conversation> }[] } }>(ConversationsDocument, { first: 20 })!.conversations.edges.map((e) => e.node);
  const history = () =>
    h.cached<{ messages: { edges: { node: ReturnType<typeof message> & { readCount: number } }[] } }>(MessagesDocument, { conversationId: 'c1', last: 2 })!.messages.edges.map((e) => e.node);
  return { ...h, list, history };
}

describe('urql Graphcache options', () => {
  it('merge history pages fetched backward before the loaded ones, oldest first', async () => {
    const h = await seeded();
    await h.query(MessagesDocument, { conversationId: 'c1', last: 2, before: 's4' });
    expect(h.history().map((m) => m.seq)).toEqual([2, 3, 4, 5]);
  });

  it('append a new message once, count it unread once and move its conversation to the top', async () => {
    const h = await seeded();
    h.push(added(message('c2', 4)));
    h.push(added(message('c2', 4)));
    expect(h.list().map((c) => [c.id, c.unreadCount, c.lastSeq])).toEqual([
      ['c2', 2, 4],
      ['c1', 0, 5],
    ]);
    h.push(added(message('c1', 6, ME)));
    expect(h.history().map((m) => [m.seq, m.readCount])).toEqual([
      [4, 0],
      [5, 0],
      [6, 0],
    ]);
    expect(h.list()[0]).toMatchObject({ id: 'c1', unreadCount: 0, lastSeq: 6 });
  });

  it('replace a message deleted for everyone by its tombstone, and drop one hidden for me', async () => {
    const h = await seeded();
    h.push(deleted(conversation('c1', 5, 0), message('c1', 5), true));
    expect(h.history()[1]).toMatchObject({ seq: 5, body: null });
    h.push(deleted({ ...conversation('c1', 5, 0), lastMessage: message('c1', 5) }, message('c1', 4), false));
    expect(h.history().map((m) => m.seq)).toEqual([5]);
  });

  it('put a conversation I was added to at the top, and drop one I left', async () => {
    const h = await seeded();
    h.push({ __typename: 'MemberJoined', cursor: 'j', ephemeral: false, conversation: conversation('c3', 0, 0), user: user(ME) });
    expect(h.list().map((c) => c.id)).toEqual(['c3', 'c1', 'c2']);
    h.push({ __typename: 'MemberLeft', cursor: 'l', ephemeral: false, conversationId: 'c3', user: { __typename: 'User', id: ME } });
    expect(h.list().map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('show my messages read when the other member reads them, and clear my unread count when I read elsewhere', async () => {
    const h = harness({
      [answer('Conversations', { first: 20 })]: conversationsPage([conversation('c1', 3, 2)]),
      [answer('Messages', { conversationId: 'c1', last: 2 })]: messagesPage('c1', [1, 2], { sender: ME }),
    });
    await h.query(ConversationsDocument, { first: 20 });
    await h.query(MessagesDocument, { conversationId: 'c1', last: 2 });
    h.push(readMoved('c1', PEER, 1));
    const page = h.cached<{ messages: { edges: { node: { seq: number; readCount: number } }[] } }>(MessagesDocument, { conversationId: 'c1', last: 2 })!;
    expect(page.messages.edges.map((e) => [e.node.seq, e.node.readCount])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    h.push(readMoved('c1', ME, 3));
    const list = h.cached<{ conversations: { edges: { node: { myReadSeq: number; unreadCount: number } }[] } }>(ConversationsDocument, { first: 20 })!;
    expect(list.conversations.edges[0].node).toMatchObject({ myReadSeq: 3, unreadCount: 0 });
  });
});
