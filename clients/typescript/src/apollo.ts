// Apollo Client (4.x) cache policies for the messenger API: possibleTypes,
// Relay pagination for every connection, and applyEvent, which merges one
// event of the kit's Events subscription into the cache.
import { InMemoryCache, gql, type ApolloCache, type TypePolicies } from '@apollo/client';
import { relayStylePagination, type Reference } from '@apollo/client/utilities';

import { appendEdge, moveToFront, removeEdge } from './connections.js';
import type { Event, EventOf } from './events.js';
import { EventsDocument } from './generated/graphql.js';
import { possibleTypes } from './possibleTypes.js';

/**
 * Field policies: each connection is one list per key argument (history per
 * conversation, search per query...), pages merged both ways with Relay
 * cursors (fetchMore with `before`/`last` prepends older messages).
 */
export const typePolicies: TypePolicies = {
  Query: {
    fields: {
      // conversation(id:) reads the conversation the list already loaded.
      conversation: { read: (_, { args, toReference }) => toReference({ __typename: 'Conversation', id: args?.id as string }) },
      conversations: relayStylePagination(false),
      messages: relayStylePagination(['conversationId']),
      searchMessages: relayStylePagination(['query', 'conversationId', 'orderBy']),
      searchUsers: relayStylePagination(['query']),
      storyFeed: relayStylePagination(false),
    },
  },
  // Each event replaces the last one (its objects are normalized apart).
  Subscription: { fields: { events: { merge: false } } },
  Conversation: { fields: { members: relayStylePagination(false) } },
  Message: {
    fields: {
      // A message that arrived as an event has no readCount yet: 0, rather
      // than a history query that refetches because one field is missing.
      readCount: { read: (n: number | undefined) => n ?? 0 },
      readBy: relayStylePagination(false),
      deliveredTo: relayStylePagination(false),
      // The server sends the whole list each time.
      reactions: { merge: false },
      attachments: { merge: false },
    },
  },
  Reaction: { keyFields: false, fields: { users: relayStylePagination(false) } },
  Story: { fields: { viewers: relayStylePagination(false), reactions: { merge: false } } },
  // Objects without an id of their own live inside their parent.
  Presence: { keyFields: false, merge: true },
  Receipt: { keyFields: false },
  UserAt: { keyFields: false },
  StoryGroup: { keyFields: false },
};

/** An InMemoryCache with the messenger's possibleTypes and typePolicies. */
export function createCache(): InMemoryCache {
  return new InMemoryCache({ possibleTypes, typePolicies });
}

/** Options of applyEvent. */
export interface ApplyOptions {
  /** The signed-in user's id (User.id): their own messages are not unread. */
  me: string;
}

const conversationSeq = gql`
  fragment MessengerConversationSeq on Conversation {
    lastSeq
  }
`;

// A connection as relayStylePagination stores it.
interface StoredEdge {
  __typename?: string;
  cursor?: string;
  node?: Reference;
}
interface StoredConnection {
  edges: StoredEdge[];
  pageInfo?: { hasNextPage?: boolean; hasPreviousPage?: boolean };
}

type ReadField = <T>(field: string, from: Reference | undefined) => T | undefined;

const edgeID = (readField: ReadField) => (e: StoredEdge) => readField<string>('id', e.node);

/**
 * Merges one event into the cache, as Apollo would merge a subscription
 * result it ran itself, plus what a normalized cache cannot infer:
 *  - MessageAdded: appended to the conversation's loaded history (when it
 *    reaches the newest message), the conversation's lastMessage, lastSeq
 *    and lastActivityAt updated, its unreadCount raised when someone else
 *    sent it, and the conversation moved to the top of the list;
 *  - MessageDeleted: deleted for everyone, the tombstone replaces the
 *    message; hidden for me, the message is evicted and leaves the history;
 *  - ConversationUpdated, MemberJoined: the conversation moves to (or
 *    appears at) the top of the list; MemberLeft by me: it is evicted;
 *  - ReadCursorMoved: by me (another device), myReadSeq moves and the
 *    unread count drops to 0 when it reaches lastSeq; by someone else, my
 *    loaded messages up to seq that show readCount 0 show 1 (exact in a
 *    direct conversation, a lower bound in a group: refetch for more);
 *  - everything else (edits, reactions, presence...) normalizes by itself.
 * Applying the same event twice changes nothing the second time, so
 * replays after a resync or a reconnect are harmless.
 */
export function applyEvent(cache: ApolloCache, event: Event, { me }: ApplyOptions): void {
  switch (event.__typename) {
    case 'MessageAdded':
      return messageAdded(cache, event, me);
    case 'MessageDeleted':
      return messageDeleted(cache, event);
    case 'ConversationUpdated':
    case 'MemberJoined':
      write(cache, event);
      return toTop(cache, event.conversation.id, true);
    case 'ReadCursorMoved':
      write(cache, event);
      return readUpTo(cache, event, me);
    case 'MemberLeft':
      if (event.user.id !== me) return write(cache, event);
      return forget(cache, 'Conversation', event.conversationId, 'conversations');
    default:
      return write(cache, event);
  }
}

// write stores the event as Apollo stores a subscription result, which
// normalizes every object in it (messages, conversations, users).
function write(cache: ApolloCache, event: Event) {
  cache.writeQuery({ id: 'ROOT_SUBSCRIPTION', query: EventsDocument, data: { __typename: 'Subscription', events: event } });
}

function messageAdded(cache: ApolloCache, event: EventOf<'MessageAdded'>, me: string) {
  const m = event.message;
  const convID = cache.identify({ __typename: 'Conversation', id: m.conversation.id });
  const seen = convID ? cache.readFragment<{ lastSeq: number }>({ id: convID, fragment: conversationSeq }) : null;
  write(cache, event);
  const ref = cache.identify({ __typename: 'Message', id: m.id });
  if (!ref) return;
  const node: Reference = { __ref: ref };
  cache.modify<Record<string, unknown>>({
    id: 'ROOT_QUERY',
    fields: {
      messages(existing, { storeFieldName, readField }) {
        if (!storeFieldName.includes(JSON.stringify(m.conversation.id))) return existing;
        const edge: StoredEdge = { __typename: 'MessageEdge', cursor: '', node };
        return appendEdge(existing as unknown as StoredConnection, edge, m.id, edgeID(readField as ReadField)) as never;
      },
    },
  });
  if (convID && seen && m.seq > seen.lastSeq) {
    toTop(cache, m.conversation.id, false);
    cache.modify<Record<string, unknown>>({
      id: convID,
      fields: {
        lastSeq: () => m.seq,
        lastMessage: () => node,
        lastActivityAt: () => m.sentAt,
        unreadCount: (n) => (m.sender.id === me ? n : (n as number) + 1),
      },
    });
  }
}

function messageDeleted(cache: ApolloCache, event: EventOf<'MessageDeleted'>) {
  write(cache, event);
  // Hidden for me: keep the conversation's new state, drop the message.
  if (!event.forEveryone) forget(cache, 'Message', event.messageId, 'messages');
}

// forget evicts an object and removes its edges from the lists of field.
function forget(cache: ApolloCache, typename: string, id: string, field: string) {
  const ref = cache.identify({ __typename: typename, id });
  if (!ref) return;
  cache.modify<Record<string, unknown>>({
    id: 'ROOT_QUERY',
    fields: {
      [field]: (existing, { readField }) =>
        removeEdge(existing as unknown as StoredConnection, id, edgeID(readField as ReadField)) as never,
    },
  });
  cache.evict({ id: ref });
  cache.gc();
}

// toTop moves a conversation to the top of the loaded conversation list,
// or (insert) puts it there when the list starts at the top.
function toTop(cache: ApolloCache, id: string, insert: boolean) {
  const ref = cache.identify({ __typename: 'Conversation', id });
  if (!ref) return;
  const edge: StoredEdge | null = insert ? { __typename: 'ConversationEdge', cursor: '', node: { __ref: ref } } : null;
  cache.modify<Record<string, unknown>>({
    id: 'ROOT_QUERY',
    fields: {
      conversations(existing, { readField }) {
        return moveToFront(existing as unknown as StoredConnection, edge, id, edgeID(readField as ReadField)) as never;
      },
    },
  });
}

const conversationRead = gql`
  fragment MessengerConversationRead on Conversation {
    lastSeq
    myReadSeq
  }
`;

const messageReadCount = gql`
  fragment MessengerMessageReadCount on Message {
    readCount
  }
`;

function readUpTo(cache: ApolloCache, event: EventOf<'ReadCursorMoved'>, me: string) {
  const convID = cache.identify({ __typename: 'Conversation', id: event.conversationId });
  if (!convID) return;
  if (event.user.id === me) {
    const c = cache.readFragment<{ lastSeq: number; myReadSeq: number }>({ id: convID, fragment: conversationRead });
    if (!c || event.seq <= c.myReadSeq) return;
    cache.modify<Record<string, unknown>>({
      id: convID,
      fields: {
        myReadSeq: () => event.seq,
        unreadCount: (n) => (event.seq >= c.lastSeq ? 0 : n),
      },
    });
    return;
  }
  // Someone else read up to seq: find my loaded messages it covers.
  const refs = new Set<string>();
  const unread: string[] = [];
  cache.modify<Record<string, unknown>>({
    id: 'ROOT_QUERY',
    fields: {
      messages(existing, { storeFieldName, readField }) {
        if (!storeFieldName.includes(JSON.stringify(event.conversationId))) return existing;
        for (const e of (existing as unknown as StoredConnection).edges) {
          const seq = readField<number>('seq', e.node);
          const sender = readField<Reference>('sender', e.node);
          if (e.node && seq !== undefined && seq <= event.seq && readField<string>('id', sender) === me && !refs.has(e.node.__ref)) {
            refs.add(e.node.__ref);
            if (!readField<number>('readCount', e.node)) unread.push(e.node.__ref);
          }
        }
        return existing;
      },
    },
  });
  // A write, not a modify: a message that came as an event has no
  // readCount field to modify.
  for (const id of unread) {
    cache.writeFragment({ id, fragment: messageReadCount, data: { __typename: 'Message', readCount: 1 } });
  }
}
