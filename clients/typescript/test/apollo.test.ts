import { describe, expect, it } from 'vitest';

import { applyEvent, createCache } from '../src/apollo.js';
import { ConversationsDocument, MessagesDocument, SendMessageDocument } from '../src/generated/graphql.js';
import { ME, PEER, added, conversation, conversationsPage, deleted, message, messagesPage, readMoved, user } from './fixtures.js';

function seeded() {
  const cache = createCache();
  cache.writeQuery({ query: ConversationsDocument, data: conversationsPage([conversation('c1', 5, 0), conversation('c2', 3, 1)]) });
  cache.writeQuery({ query: MessagesDocument, variables: { conversationId: 'c1', last: 2 }, data: messagesPage('c1', [4, 5], { hasPrevious: true }) });
  const list = () => cache.readQuery({ query: ConversationsDocument })!.conversations.edges.map((e) => e.node);
  const history = (conv = 'c1') =>
    cache.readQuery({ query: MessagesDocument, variables: { conversationId: conv } })?.messages.edges.map((e) => e.node) ?? [];
  return { cache, list, history };
}

describe('Apollo cache policies', () => {
  it('merge history pages fetched backward before the loaded ones, oldest first', () => {
    const { cache, history } = seeded();
    cache.writeQuery({
      query: MessagesDocument,
      variables: { conversationId: 'c1', last: 2, before: 's4' },
      data: messagesPage('c1', [2, 3], { hasPrevious: true, hasNext: true }),
    });
    expect(history().map((m) => m.seq)).toEqual([2, 3, 4, 5]);
    // Another conversation's history is a list of its own.
    cache.writeQuery({ query: MessagesDocument, variables: { conversationId: 'c2', last: 2 }, data: messagesPage('c2', [3]) });
    expect(history('c2').map((m) => m.seq)).toEqual([3]);
    expect(history().map((m) => m.seq)).toEqual([2, 3, 4, 5]);
  });

  it('append a new message once, count it unread once and move its conversation to the top', () => {
    const { cache, list, history } = seeded();
    const m = message('c1', 6);
    applyEvent(cache, added(m), { me: ME });
    applyEvent(cache, added(m), { me: ME }); // a replay after a reconnect
    expect(history().map((x) => x.seq)).toEqual([4, 5, 6]);
    expect(history()[2].readCount).toBe(0);
    const [top] = list();
    expect(top.id).toBe('c1');
    expect(top.unreadCount).toBe(1);
    expect(top.lastSeq).toBe(6);
    expect(top.lastMessage?.id).toBe(m.id);

    applyEvent(cache, added(message('c2', 4)), { me: ME });
    expect(list().map((c) => [c.id, c.unreadCount])).toEqual([
      ['c2', 2],
      ['c1', 1],
    ]);
  });

  it('do not count my own messages as unread', () => {
    const { cache, list } = seeded();
    applyEvent(cache, added(message('c1', 6, ME)), { me: ME });
    expect(list()[0]).toMatchObject({ id: 'c1', unreadCount: 0, lastSeq: 6 });
  });

  it('leave a history that stops short of the newest message alone (no gap)', () => {
    const cache = createCache();
    cache.writeQuery({ query: MessagesDocument, variables: { conversationId: 'c1', first: 2 }, data: messagesPage('c1', [1, 2], { hasNext: true }) });
    applyEvent(cache, added(message('c1', 9)), { me: ME });
    const edges = cache.readQuery({ query: MessagesDocument, variables: { conversationId: 'c1' } })!.messages.edges;
    expect(edges.map((e) => e.node.seq)).toEqual([1, 2]);
  });

  it('replace a message deleted for everyone by its tombstone, in place', () => {
    const { cache, history } = seeded();
    applyEvent(cache, deleted(conversation('c1', 5, 0), message('c1', 5), true), { me: ME });
    const [, last] = history();
    expect(last).toMatchObject({ seq: 5, body: null, deletedAt: '2026-01-02T00:00:00Z' });
  });

  it('evict a message hidden for me and take the conversation as the event says', () => {
    const { cache, list, history } = seeded();
    const c = { ...conversation('c1', 5, 0), lastMessage: message('c1', 4) };
    applyEvent(cache, deleted(c, message('c1', 5), false), { me: ME });
    expect(history().map((m) => m.seq)).toEqual([4]);
    expect(cache.extract()[cache.identify({ __typename: 'Message', id: 'c1-m5' })!]).toBeUndefined();
    expect(list().find((x) => x.id === 'c1')?.lastMessage?.seq).toBe(4);
  });

  it('put a conversation I was added to at the top, and drop one I left', () => {
    const { cache, list } = seeded();
    const fresh = conversation('c3', 0, 0);
    applyEvent(cache, { __typename: 'MemberJoined', cursor: 'j', ephemeral: false, conversation: fresh, user: user(ME) }, { me: ME });
    expect(list().map((c) => c.id)).toEqual(['c3', 'c1', 'c2']);
    applyEvent(cache, { __typename: 'MemberLeft', cursor: 'l', ephemeral: false, conversationId: 'c3', user: { __typename: 'User', id: ME } }, { me: ME });
    expect(list().map((c) => c.id)).toEqual(['c1', 'c2']);
  });

  it('show my messages read when the other member reads them, and clear my unread count when I read elsewhere', () => {
    const cache = createCache();
    cache.writeQuery({ query: ConversationsDocument, data: conversationsPage([conversation('c1', 3, 2)]) });
    cache.writeQuery({ query: MessagesDocument, variables: { conversationId: 'c1', last: 10 }, data: messagesPage('c1', [1, 2], { sender: ME }) });
    applyEvent(cache, added(message('c1', 3, ME)), { me: ME });
    applyEvent(cache, readMoved('c1', PEER, 2), { me: ME });
    const edges = cache.readQuery({ query: MessagesDocument, variables: { conversationId: 'c1' } })!.messages.edges;
    expect(edges.map((e) => [e.node.seq, e.node.readCount])).toEqual([
      [1, 1],
      [2, 1],
      [3, 0],
    ]);
    applyEvent(cache, readMoved('c1', PEER, 3), { me: ME });
    const after = cache.readQuery({ query: MessagesDocument, variables: { conversationId: 'c1' } })!.messages.edges;
    expect(after.map((e) => e.node.readCount)).toEqual([1, 1, 1]);

    applyEvent(cache, readMoved('c1', ME, 4), { me: ME });
    expect(cache.readQuery({ query: ConversationsDocument })!.conversations.edges[0].node).toMatchObject({ myReadSeq: 4, unreadCount: 0 });
  });

  it('keep a read receipt that arrived before the answer to my sendMessage', () => {
    const cache = createCache();
    cache.writeQuery({ query: MessagesDocument, variables: { conversationId: 'c1', last: 10 }, data: messagesPage('c1', [1]) });
    const mine = message('c1', 2, ME);
    applyEvent(cache, added(mine), { me: ME });
    applyEvent(cache, readMoved('c1', PEER, 2), { me: ME });
    // The HTTP answer, slower than the events socket, lands last.
    cache.writeQuery({ id: 'ROOT_MUTATION', query: SendMessageDocument, variables: { input: { conversationId: 'c1', clientMessageId: 'k2', body: 'x' } }, data: { __typename: 'Mutation', sendMessage: mine } });
    const edges = cache.readQuery({ query: MessagesDocument, variables: { conversationId: 'c1' } })!.messages.edges;
    expect(edges.map((e) => [e.node.seq, e.node.readCount])).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });
});
