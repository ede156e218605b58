// The graphql-ws client (the one web apps use) against the API at
// process.argv[2] (http://host:port): two users sign up, bob subscribes to
// his events over graphql-transport-ws, alice sends him a message, and bob's
// subscription must deliver it. Exits 1 on any failure.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const base = process.argv[2];
const http = async (query, variables, token) => {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
  return body.data;
};
const signUp = async (name) =>
  (await http('mutation($i: SignUpInput!) { signUp(input: $i) { token user { id } } }', {
    i: { username: name, password: `password-${name}`, displayName: name },
  })).signUp;

const suffix = Math.floor(Math.random() * 1e9);
const alice = await signUp(`alice${suffix}`);
const bob = await signUp(`bob${suffix}`);
const conv = (await http('mutation($u: ID!) { createDirectConversation(userId: $u) { id } }', { u: bob.user.id }, alice.token))
  .createDirectConversation.id;

const client = createClient({
  url: `${base.replace(/^http/, 'ws')}/graphql`,
  webSocketImpl: WebSocket,
  connectionParams: { Authorization: `Bearer ${bob.token}` },
  retryAttempts: 0,
});
const timeout = setTimeout(() => {
  console.error('graphql-ws client: no event within 10 s');
  process.exit(1);
}, 10000);
const received = new Promise((resolve, reject) => {
  client.subscribe(
    { query: 'subscription { events { __typename ... on MessageAdded { message { body sender { id } } } } }' },
    {
      next: (result) => {
        if (result.errors) reject(new Error(JSON.stringify(result.errors)));
        const ev = result.data.events;
        if (ev.__typename === 'MessageAdded') resolve(ev);
      },
      error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
      complete: () => reject(new Error('subscription completed early')),
    },
  );
});
client.on('connected', async () => {
  await new Promise((r) => setTimeout(r, 200));
  await http(
    'mutation($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "ws-1", body: "hello over graphql-ws"}) { id } }',
    { c: conv },
    alice.token,
  );
});
try {
  const ev = await received;
  if (ev.message.body !== 'hello over graphql-ws' || ev.message.sender.id !== alice.user.id) throw new Error(`wrong event ${JSON.stringify(ev)}`);
  console.log('graphql-ws client: received MessageAdded over graphql-transport-ws: 1 passed, 0 failed');
} catch (err) {
  console.error('graphql-ws client:', err);
  process.exit(1);
} finally {
  clearTimeout(timeout);
  await client.dispose();
}
