// @messenger/client: typed operations for the messenger GraphQL API, the
// possibleTypes of its interfaces and a resumable events subscription.
// Cache policies: '@messenger/client/apollo' and '@messenger/client/urql'.
export * from './generated/graphql.js';
export { possibleTypes } from './possibleTypes.js';
export { CURSOR_EXPIRED, isCursorExpired, isDurable, type Event, type EventOf } from './events.js';
export { appendEdge, moveToFront, removeEdge, type EdgeList, type EdgeOf } from './connections.js';
export { resumeEvents, type EventStream, type EventsClient, type EventsPayload, type EventsResult, type ResumeOptions } from './resume.js';
export type { TypedDocumentNode } from '@graphql-typed-document-node/core';
