// urql Graphcache (exchange-graphcache 9.x) options for the messenger API:
// its schema (so fragments on the Event and Node interfaces match for sure,
// where possibleTypes alone would leave Graphcache writing every fragment
// of an event and warning about the fields it lacks), keys for objects
// without ids, Relay pagination for every connection, and an updater that
// merges each event of the kit's Events subscription into the cache.
import { gql } from '@urql/core';
import type { Cache, CacheExchangeOpts, KeyingConfig, ResolverConfig } from '@urql/exchange-graphcache';
import { relayPagination } from '@urql/exchange-graphcache/extras';

import { appendEdge, moveToFront, removeEdge } from './connections.js';
import type { Event, EventOf } from './events.js';
import { ConversationsDocument, MessagesDocument, type ConversationsQuery, type MessagesQuery } from './generated/graphql.js';
import schema from './generated/introspection.js';

const embedded = () => null;

/** Objects with no id of their own: stored inside their parent. */
export const keys: KeyingConfig = Object.fromEntries(
  [
    'AuthPayload', 'PageInfo', 'Presence', 'Receipt', 'UserAt', 'Reaction', 'FormField', 'PresignedUpload',
    'ConversationConnection', 'ConversationEdge', 'MessageConnection', 'MessageEdge', 'MemberConnection', 'MemberEdge',
    'UserConnection', 'UserEdge', 'UserAtConnection', 'UserAtEdge', 'MessageSearchConnection', 'MessageSearchEdge',
    'MessageSearchHit', 'StoryFeedConnection', 'StoryGroupEdge', 'StoryGroup', 'StoryReactionCount',
  ].map((t) => [t, embedded]),
);

/** Relay pagination for every connection; pages merge per non-paging arguments (history per conversation). */
export const resolvers: ResolverConfig = {
  Query: {
    conversations: relayPagination(),
    messages: relayPagination(),
    searchMessages: relayPagination(),
    searchUsers: relayPagination(),
    storyFeed: relayPagination(),
  },
  Conversation: { members: relayPagination() },
  Message: {
    readBy: relayPagination(),
    deliveredTo: relayPagination(),
    // A message that arrived as an event has no readCount yet.
    readCount: (_parent, _args, cache, info) => (cache.resolve(info.parentKey, 'readCount') as number | undefined) ?? 0,
  },
  Reaction: { users: relayPagination() },
  Story: { viewers: relayPagination() },
};

/** Options of graphcacheOptions and applyGraphcacheEvent. */
export interface GraphcacheEventOptions {
  /** The signed-in user's id (User.id): their own messages are not unread. */
  me: string;
}

/** The API's schema as Graphcache's `schema` option takes it (minified introspection). */
export { schema };

/**
 * Options for `cacheExchange(...)`: schema, keys, resolvers, and an
 * updater for Subscription.events (see applyGraphcacheEvent). History and
 * conversation-list edits apply to pages read with the kit's Messages and
 * Conversations queries.
 */
export function graphcacheOptions({ me }: GraphcacheEventOptions): CacheExchangeOpts {
  return {
    schema,
    keys,
    resolvers,
    updates: {
      Subscription: {
        events: (result, _args, cache) => {
          const event = (result as { events?: Event | null }).events;
          if (event) applyGraphcacheEvent(cache, event, { me });
        },
      },
    },
  };
}

const conversationState = gql`
  fragment MessengerConversationState on Conversation {
    id
    lastSeq
    myReadSeq
    unreadCount
  }
`;

const conversationBump = gql`
  fragment MessengerConversationBump on Conversation {
    id
    lastSeq
    lastActivityAt
    unreadCount
    lastMessage {
      id
    }
  }
`;

const conversationRead = gql`
  fragment MessengerConversationRead on Conversation {
    id
    myReadSeq
    unreadCount
  }
`;

const messageReadCount = gql`
  fragment MessengerMessageReadCount on Message {
    id
    readCount
  }
`;

type MessagesPage = MessagesQuery['messages'];
type ConversationsPage = ConversationsQuery['conversations'];

/**
 * What applyEvent (apollo.ts) does, for Graphcache: called from the
 * Subscription.events updater, after Graphcache has normalized the event's
 * objects. Applying an event twice changes nothing the second time.
 */
export function applyGraphcacheEvent(cache: Cache, event: Event, { me }: GraphcacheEventOptions): void {
  switch (event.__typename) {
    case 'MessageAdded':
      return messageAdded(cache, event, me);
    case 'MessageDeleted':
      if (!event.forEveryone) {
        eachMessagesPage(cache, event.conversationId, (page) => removeEdge(page, event.messageId, (e) => e.node.id));
        cache.invalidate({ __typename: 'Message', id: event.messageId });
      }
      return;
    case 'ConversationUpdated':
    case 'MemberJoined': {
      const edge = { __typename: 'ConversationEdge' as const, cursor: '', node: event.conversation };
      return eachConversationsPage(cache, (page) => moveToFront(page, edge, event.conversation.id, (e) => e.node.id));
    }
    case 'MemberLeft':
      if (event.user.id === me) {
        eachConversationsPage(cache, (page) => removeEdge(page, event.conversationId, (e) => e.node.id));
        cache.invalidate({ __typename: 'Conversation', id: event.conversationId });
      }
      return;
    case 'ReadCursorMoved':
      return readUpTo(cache, event, me);
  }
}

function messageAdded(cache: Cache, event: EventOf<'MessageAdded'>, me: string) {
  const m = event.message;
  const conv = m.conversation.id;
  const readCount = (cache.resolve({ __typename: 'Message', id: m.id }, 'readCount') as number | undefined) ?? 0;
  eachMessagesPage(cache, conv, (page) => appendEdge(page, { __typename: 'MessageEdge', cursor: '', node: { ...m, readCount } }, m.id, (e) => e.node.id));
  const seen = cache.readFragment<{ lastSeq: number; unreadCount: number }>(conversationState, { __typename: 'Conversation', id: conv });
  if (!seen || m.seq <= seen.lastSeq) return;
  cache.writeFragment(conversationBump, {
    __typename: 'Conversation',
    id: conv,
    lastSeq: m.seq,
    lastActivityAt: m.sentAt,
    unreadCount: seen.unreadCount + (m.sender.id === me ? 0 : 1),
    lastMessage: { __typename: 'Message', id: m.id },
  });
  eachConversationsPage(cache, (page) => moveToFront(page, null, conv, (e) => e.node.id));
}

function readUpTo(cache: Cache, event: EventOf<'ReadCursorMoved'>, me: string) {
  if (event.user.id === me) {
    const c = cache.readFragment<{ lastSeq: number; myReadSeq: number; unreadCount: number }>(conversationState, {
      __typename: 'Conversation',
      id: event.conversationId,
    });
    if (!c || event.seq <= c.myReadSeq) return;
    cache.writeFragment(conversationRead, {
      __typename: 'Conversation',
      id: event.conversationId,
      myReadSeq: event.seq,
      unreadCount: event.seq >= c.lastSeq ? 0 : c.unreadCount,
    });
    return;
  }
  const read = new Set<string>();
  eachMessagesPage(cache, event.conversationId, (page) => {
    for (const { node } of page.edges) {
      if (node.seq <= event.seq && node.sender.id === me && !node.readCount) read.add(node.id);
    }
    return page;
  });
  for (const id of read) cache.writeFragment(messageReadCount, { __typename: 'Message', id, readCount: 1 });
}

// eachMessagesPage edits every loaded history page of a conversation.
function eachMessagesPage(cache: Cache, conversationId: string, edit: (page: MessagesPage) => MessagesPage) {
  for (const f of cache.inspectFields('Query')) {
    if (f.fieldName !== 'messages' || f.arguments?.conversationId !== conversationId) continue;
    cache.updateQuery({ query: MessagesDocument, variables: f.arguments as never }, (data) => {
      if (!data) return null;
      const page = edit(data.messages);
      return page === data.messages ? null : { ...data, messages: page };
    });
  }
}

// eachConversationsPage edits the loaded pages of the conversation list
// that start at its top (no after/before: the others follow them).
function eachConversationsPage(cache: Cache, edit: (page: ConversationsPage) => ConversationsPage) {
  for (const f of cache.inspectFields('Query')) {
    if (f.fieldName !== 'conversations' || f.arguments?.after || f.arguments?.before) continue;
    cache.updateQuery({ query: ConversationsDocument, variables: (f.arguments ?? {}) as never }, (data) => {
      if (!data) return null;
      const page = edit(data.conversations);
      return page === data.conversations ? null : { ...data, conversations: page };
    });
  }
}
