// Example operations shown as GraphiQL tabs on first load (GraphiQL only uses
// them when no tab state is saved yet; "Reset" in the panel restores them).
//
// To add an example, append an entry: `name` is a human label, `query` the
// operation text (the tab title is the operation's name), `variables` an
// optional object that is shown JSON-formatted in the variables editor.

/** @type {{name: string, query: string, variables?: object}[]} */
export const examples = [
  {
    name: 'Me',
    query: `query Me {
  me {
    id
    username
    displayName
  }
}
`,
  },
  {
    name: 'Start a conversation (or use the People picker)',
    query: `mutation StartConversation($userId: ID!) {
  createDirectConversation(userId: $userId) {
    id
    members {
      edges {
        role
        node {
          id
          username
        }
      }
    }
  }
}
`,
    variables: { userId: '...' },
  },
  {
    name: 'Send',
    query: `mutation SendMessage($input: SendMessageInput!) {
  sendMessage(input: $input) {
    id
    seq
    body
    sentAt
    sender {
      username
    }
  }
}
`,
    variables: {
      input: {
        conversationId: '...',
        clientMessageId: 'any-unique-id',
        body: 'hello',
      },
    },
  },
  {
    name: 'History',
    query: `query History($id: ID!) {
  messages(conversationId: $id, last: 20) {
    edges {
      cursor
      node {
        seq
        body
        sender {
          username
        }
        sentAt
      }
    }
    pageInfo {
      hasPreviousPage
      startCursor
    }
  }
}
`,
    variables: { id: '...' },
  },
  {
    name: 'Conversations',
    query: `query Conversations {
  conversations(first: 20) {
    edges {
      node {
        id
        title
        unreadCount
        lastMessage {
          body
        }
      }
    }
  }
}
`,
  },
  {
    name: 'Subscribe',
    query: `subscription Events {
  events {
    cursor
    __typename
    ... on MessageAdded {
      message {
        seq
        body
        sender {
          username
        }
      }
    }
    ... on ConversationUpdated {
      conversation {
        id
      }
    }
    ... on ReadCursorMoved {
      user {
        username
      }
      seq
    }
    ... on ReactionUpdated {
      emoji
      added
      user {
        username
      }
    }
    ... on TypingUpdated {
      user {
        username
      }
      typing
    }
  }
}
`,
  },
  {
    name: 'Group',
    query: `mutation CreateGroup($memberIds: [ID!]!) {
  createGroup(input: { title: "Team", memberIds: $memberIds }) {
    id
    title
    myRole
    memberCount
  }
}
`,
    variables: { memberIds: ['...'] },
  },
  {
    name: 'Read receipts',
    query: `mutation MarkRead($conversationId: ID!, $seq: Int!) {
  markRead(conversationId: $conversationId, seq: $seq) {
    unreadCount
    myReadSeq
  }
}

query Receipts($conversationId: ID!) {
  messages(conversationId: $conversationId, last: 10) {
    edges {
      node {
        seq
        body
        readCount
        deliveredCount
        readBy(first: 20) {
          edges {
            node {
              user {
                username
              }
              at
            }
          }
        }
      }
    }
  }
}
`,
    variables: { conversationId: '...', seq: 1 },
  },
  {
    name: 'Reactions',
    query: `mutation React($messageId: ID!, $emoji: String!) {
  addReaction(messageId: $messageId, emoji: $emoji) {
    id
    reactions {
      emoji
      count
      reactedByMe
      users(first: 10) {
        edges {
          node {
            user {
              username
            }
          }
        }
      }
    }
  }
}
`,
    variables: { messageId: '...', emoji: '👍' },
  },
  {
    name: 'Edit and delete',
    query: `mutation Edit($messageId: ID!) {
  editMessage(messageId: $messageId, body: "edited text") {
    body
    editedAt
  }
}

mutation DeleteForEveryone($messageId: ID!) {
  deleteMessage(messageId: $messageId, forEveryone: true) {
    body
    deletedAt
  }
}
`,
    variables: { messageId: '...' },
  },
  {
    name: 'Typing',
    query: `mutation Typing($conversationId: ID!) {
  setTyping(conversationId: $conversationId, typing: true)
}
`,
    variables: { conversationId: '...' },
  },
  {
    name: 'Search',
    query: `query Search($query: String!) {
  searchMessages(query: $query, first: 10) {
    totalCount
    edges {
      node {
        highlights
        message {
          seq
          body
          sender {
            username
          }
        }
        conversation {
          id
          title
        }
      }
    }
  }
}

query FindPeople($prefix: String!) {
  searchUsers(query: $prefix, first: 10) {
    edges {
      node {
        id
        username
        displayName
      }
    }
  }
}
`,
    variables: { query: 'hello', prefix: 'a' },
  },
  {
    name: 'Invite link (owner or admin), preview and join',
    query: `mutation CreateInviteLink($conversationId: ID!) {
  createInviteLink(conversationId: $conversationId, input: {maxUses: 50, requireApproval: false}) {
    code
    uses
    maxUses
    expiresAt
  }
}

query PreviewInvite($code: String!) {
  previewInvite(code: $code) {
    title
    memberCount
    requireApproval
  }
}

mutation JoinByInvite($code: String!) {
  joinByInvite(code: $code) {
    status
    conversation {
      id
      title
    }
  }
}
`,
    variables: { conversationId: '...', code: '...' },
  },
  {
    name: 'Moderation: ban, slow mode, log',
    query: `mutation BanMember($conversationId: ID!, $userId: ID!) {
  banMember(conversationId: $conversationId, userId: $userId) {
    user {
      username
    }
    until
  }
}

mutation SetSlowMode($conversationId: ID!) {
  setSlowMode(conversationId: $conversationId, slowModeSeconds: 30) {
    slowModeSeconds
    announcementOnly
  }
}

query ModerationLog($conversationId: ID!) {
  moderationLog(conversationId: $conversationId, first: 20) {
    edges {
      node {
        at
        action
        actor {
          username
        }
        targetUser {
          username
        }
        detail
      }
    }
  }
}
`,
    variables: { conversationId: '...', userId: '...' },
  },
  // membership
  {
    name: 'Inbox: pinned first, archive, mute, drafts',
    query: `query Inbox($filter: ConversationFilter) {
  conversationCounts {
    all
    archived
    unread
    pinned
  }
  conversations(filter: $filter, orderBy: LAST_ACTIVITY, first: 20) {
    edges {
      node {
        id
        title
        unreadCount
        membership {
          archived
          pinned
          muted
          mutedUntil
          notificationLevel
        }
        draft {
          body
        }
      }
    }
  }
}

mutation UpdateMembership($conversationId: ID!) {
  updateMembership(conversationId: $conversationId, input: {pinned: true, muted: true}) {
    pinned
    mutedUntil
  }
}

mutation MarkUnread($conversationId: ID!) {
  markUnread(conversationId: $conversationId) {
    unreadCount
  }
}
`,
    variables: { filter: { archived: false }, conversationId: '...' },
  },
  {
    name: 'Profile and group settings',
    query: `mutation UpdateProfile {
  updateProfile(input: {displayName: "Alice B.", bio: "Hello!"}) {
    displayName
    bio
    avatar {
      url
      thumbnails {
        url
        width
      }
    }
  }
}

mutation UpdateConversation($conversationId: ID!) {
  updateConversation(conversationId: $conversationId, input: {description: "What we do"}) {
    title
    description
  }
}
`,
    variables: { conversationId: '...' },
  },
  // threads
  {
    name: 'Reply, thread, mention',
    query: `mutation Reply($conversationId: ID!, $replyToId: ID!, $userId: ID!) {
  sendMessage(
    input: {conversationId: $conversationId, clientMessageId: "reply-1", body: "agreed!", replyToId: $replyToId, mentions: [$userId]}
  ) {
    id
    replyTo {
      body
    }
    mentions {
      username
    }
  }
}

mutation ReplyInThread($conversationId: ID!, $rootId: ID!) {
  sendMessage(
    input: {conversationId: $conversationId, clientMessageId: "thread-1", body: "in the thread", threadRootId: $rootId}
  ) {
    id
    threadRootId
  }
}
`,
    variables: { conversationId: '...', replyToId: '...', rootId: '...', userId: '...' },
  },
  {
    name: 'Threads and unread mentions',
    query: `query Thread($rootId: ID!) {
  threadMessages(rootId: $rootId, last: 20) {
    edges {
      node {
        body
        sender {
          username
        }
        mentionsMe
      }
    }
  }
}

query Mentions($conversationId: ID!) {
  me {
    totalUnreadMentionCount
  }
  unreadMentions(conversationId: $conversationId, first: 20) {
    edges {
      node {
        id
        body
        thread {
          replyCount
          unreadCount
        }
      }
    }
  }
}
`,
    variables: { rootId: '...', conversationId: '...' },
  },
  // sessions, privacy
  {
    name: 'Sessions, blocking and privacy',
    query: `query MySessions {
  sessions {
    id
    deviceName
    platform
    lastSeenAt
    current
  }
}

mutation EndOtherSessions {
  revokeOtherSessions
}

mutation Block($userId: ID!) {
  blockUser(userId: $userId) {
    username
    blockedByMe
  }
}

mutation HideLastSeen {
  updatePrivacy(input: {lastSeen: CONTACTS, readReceipts: false}) {
    lastSeen
    readReceipts
    typing
    directConversations
  }
}
`,
    variables: { userId: '...' },
  },
  {
    name: 'Pins',
    query: `mutation PinMessage($messageId: ID!) {
  pinMessage(messageId: $messageId) {
    id
    conversation {
      pinnedMessages {
        id
        body
      }
    }
  }
}
`,
    variables: { messageId: '...' },
  },
  {
    name: 'Jump to a message',
    query: `query JumpToMessage($conversationId: ID!, $around: ID!) {
  messages(conversationId: $conversationId, around: $around, first: 20) {
    edges {
      cursor
      node {
        seq
        body
      }
    }
    pageInfo {
      hasPreviousPage
      hasNextPage
      startCursor
      endCursor
    }
  }
  conversation(id: $conversationId) {
    firstUnreadSeq
  }
}
`,
    variables: { conversationId: '...', around: 1 },
  },
  {
    name: 'Forward',
    query: `mutation ForwardMessage($messageId: ID!, $to: [ID!]!) {
  forwardMessage(messageId: $messageId, toConversationIds: $to, clientMessageId: "forward-1") {
    id
    conversation {
      id
    }
    forwardedFrom {
      sender {
        username
      }
      forwardedAt
    }
  }
}
`,
    variables: { messageId: '...', to: ['...'] },
  },
  {
    name: 'Edit history',
    query: `query EditHistory($messageId: ID!) {
  node(id: $messageId) {
    ... on Message {
      body
      edits(first: 10) {
        edges {
          node {
            body
            writtenAt
            replacedAt
          }
        }
      }
    }
  }
}
`,
    variables: { messageId: '...' },
  },
];

/** GraphiQL `defaultTabs` built from {@link examples}. */
export const defaultTabs = examples.map((e) => ({
  query: e.query,
  variables: e.variables ? JSON.stringify(e.variables, null, 2) : null,
}));
