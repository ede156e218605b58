import { useMutation, useQuery } from '@apollo/client/react';
import {
  MarkReadDocument,
  MessagesDocument,
  SendMessageDocument,
  SetTypingDocument,
  type ConversationFieldsFragment,
} from '@messenger/client';
import { useEffect, useRef, useState, type FormEvent } from 'react';

import { PAGE, type Session } from './api';
import { nameOf, type Typing } from './Chat';

export function ConversationView({ conversation, session, typing }: { conversation: ConversationFieldsFragment; session: Session; typing: Typing[string] }) {
  const id = conversation.id;
  const { data, fetchMore, loading } = useQuery(MessagesDocument, { variables: { conversationId: id, last: PAGE } });
  const [markRead] = useMutation(MarkReadDocument);
  const [send] = useMutation(SendMessageDocument);
  const [setTyping] = useMutation(SetTypingDocument);
  const [draft, setDraft] = useState('');
  const typingSent = useRef(0);
  // Typing signals go out one after another, so a "stopped" never overtakes
  // the "typing" before it on another connection.
  const typingChain = useRef<Promise<unknown>>(Promise.resolve());
  const signal = (typing: boolean) => {
    typingChain.current = typingChain.current.then(() => setTyping({ variables: { conversationId: id, typing } })).catch(() => undefined);
  };
  const bottom = useRef<HTMLDivElement>(null);

  const messages = data?.messages.edges.map((e) => e.node) ?? [];
  const page = data?.messages.pageInfo;

  // Read what is on screen while the page is visible.
  useEffect(() => {
    if (conversation.lastSeq > conversation.myReadSeq && document.visibilityState === 'visible') {
      void markRead({ variables: { conversationId: id, seq: conversation.lastSeq } });
    }
  }, [id, conversation.lastSeq, conversation.myReadSeq, markRead]);

  const newest = messages[messages.length - 1]?.id;
  useEffect(() => {
    // Braces: newer browsers return a promise from scrollIntoView, and an
    // effect must return nothing or a cleanup function.
    void bottom.current?.scrollIntoView({ block: 'end' });
  }, [newest]);

  function onDraft(text: string) {
    setDraft(text);
    // Renew the typing signal at most every 2 s (it expires by itself).
    if (text && Date.now() - typingSent.current > 2000) {
      typingSent.current = Date.now();
      signal(true);
    }
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const body = draft.trim();
    if (!body) return;
    setDraft('');
    typingSent.current = 0;
    signal(false);
    await send({ variables: { input: { conversationId: id, clientMessageId: crypto.randomUUID(), body } } });
  }

  const now = Date.now();
  const typists = Object.values(typing)
    .filter(([, until]) => until > now)
    .map(([name]) => name);

  return (
    <section className="conversation" aria-label={nameOf(conversation, session.userId)}>
      <h2>{nameOf(conversation, session.userId)}</h2>
      <div className="history" data-testid="history">
        {page?.hasPreviousPage && (
          <button
            className="older"
            disabled={loading}
            onClick={() => void fetchMore({ variables: { last: PAGE, before: page.startCursor } })}
          >
            Load older messages
          </button>
        )}
        {messages.map((m) => {
          const mine = m.sender.id === session.userId;
          return (
            <div key={m.id} className={`message ${mine ? 'mine' : ''}`} data-testid="message" data-seq={m.seq}>
              {!mine && <span className="sender">{m.sender.displayName}</span>}
              <span className="body">{m.body ?? <i>Message deleted</i>}</span>
              {mine && (
                <span className="receipt" data-testid="receipt">
                  {m.readCount > 0 ? 'Read' : 'Sent'}
                </span>
              )}
            </div>
          );
        })}
        <div ref={bottom} />
      </div>
      <p className="typing" data-testid="typing" aria-live="polite">
        {typists.length > 0 ? `${typists.join(', ')} ${typists.length > 1 ? 'are' : 'is'} typing…` : ''}
      </p>
      <form className="composer" onSubmit={submit}>
        <input data-testid="composer" placeholder="Write a message" value={draft} onChange={(e) => onDraft(e.target.value)} maxLength={4000} />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}
