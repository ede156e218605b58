// Result data shaped exactly as the kit's generated operations return it.
import type {
  ConversationFieldsFragment,
  ConversationsQuery,
  EventsSubscription,
  MessageFieldsFragment,
  MessagesQuery,
  UserFieldsFragment,
} from '../src/generated/graphql.js';

export const ME = 'VXNlcjptZQ';
export const PEER = 'VXNlcjpwZWVy';

export type Event = EventsSubscription['events'];

export function user(id: string): UserFieldsFragment {
  return { __typename: 'User', id, username: id.toLowerCase(), displayName: id };
}

export function message(conv: string, seq: number, sender = PEER, body: string | null = `message ${seq}`): MessageFieldsFragment {
  return {
    __typename: 'Message',
    id: `${conv}-m${seq}`,
    seq,
    body,
    clientMessageId: `k${seq}`,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, seq)).toISOString(),
    editedAt: null,
    deletedAt: null,
    sender: user(sender),
    conversation: { __typename: 'Conversation', id: conv },
  };
}

export function conversation(id: string, lastSeq: number, unreadCount: number): ConversationFieldsFragment {
  return {
    __typename: 'Conversation',
    id,
    kind: 'DIRECT',
    title: null,
    lastActivityAt: new Date(Date.UTC(2026, 0, 1, 0, lastSeq)).toISOString(),
    lastSeq,
    myReadSeq: lastSeq - unreadCount,
    unreadCount,
    memberCount: 2,
    lastMessage: lastSeq ? message(id, lastSeq) : null,
    members: {
      __typename: 'MemberConnection',
      edges: [ME, PEER].map((u) => ({ __typename: 'MemberEdge', node: user(u) })),
    },
  };
}

export function conversationsPage(convs: ConversationFieldsFragment[], hasNextPage = false): ConversationsQuery {
  return {
    __typename: 'Query',
    conversations: {
      __typename: 'ConversationConnection',
      edges: convs.map((node) => ({ __typename: 'ConversationEdge', cursor: `cc-${node.id}`, node })),
      pageInfo: {
        __typename: 'PageInfo',
        hasNextPage,
        hasPreviousPage: false,
        startCursor: convs.length ? `cc-${convs[0].id}` : null,
        endCursor: convs.length ? `cc-${convs[convs.length - 1].id}` : null,
      },
    },
  };
}

/** A history page of seqs (oldest first); hasNext: newer messages exist. */
export function messagesPage(conv: string, seqs: number[], { hasPrevious = false, hasNext = false, sender = PEER } = {}): MessagesQuery {
  return {
    __typename: 'Query',
    messages: {
      __typename: 'MessageConnection',
      edges: seqs.map((seq) => ({ __typename: 'MessageEdge', cursor: `s${seq}`, node: { ...message(conv, seq, sender), readCount: 0 } })),
      pageInfo: {
        __typename: 'PageInfo',
        hasNextPage: hasNext,
        hasPreviousPage: hasPrevious,
        startCursor: seqs.length ? `s${seqs[0]}` : null,
        endCursor: seqs.length ? `s${seqs[seqs.length - 1]}` : null,
      },
    },
  };
}

export function added(m: MessageFieldsFragment, cursor = `e-${m.id}`): Event {
  return { __typename: 'MessageAdded', cursor, ephemeral: false, message: m };
}

export function deleted(conv: ConversationFieldsFragment, m: MessageFieldsFragment, forEveryone: boolean): Event {
  const now = forEveryone ? { ...m, body: null, deletedAt: '2026-01-02T00:00:00Z' } : m;
  const last = conv.lastMessage?.id === m.id ? now : conv.lastMessage;
  return {
    __typename: 'MessageDeleted',
    cursor: `d-${m.id}`,
    ephemeral: false,
    messageId: m.id,
    conversationId: conv.id,
    seq: m.seq,
    forEveryone,
    message: now,
    conversation: { __typename: 'Conversation', id: conv.id, lastSeq: conv.lastSeq, unreadCount: conv.unreadCount, lastMessage: last },
  };
}

export function readMoved(conv: string, by: string, seq: number): Event {
  return {
    __typename: 'ReadCursorMoved',
    cursor: `r-${conv}-${by}-${seq}`,
    ephemeral: false,
    conversationId: conv,
    seq,
    at: '2026-01-02T00:00:00Z',
    user: { __typename: 'User', id: by },
  };
}
