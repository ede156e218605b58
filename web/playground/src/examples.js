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
    name: 'Start a conversation',
    query: `mutation Start($userId: ID!) {
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
    query: `mutation Send($input: SendMessageInput!) {
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
  }
}
`,
  },
];

/** GraphiQL `defaultTabs` built from {@link examples}. */
export const defaultTabs = examples.map((e) => ({
  query: e.query,
  variables: e.variables ? JSON.stringify(e.variables, null, 2) : null,
}));
