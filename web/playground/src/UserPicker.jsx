// "People" sidebar plugin of GraphiQL: search users and start a direct
// conversation or collect group members without copying any id. It writes
// the ids into the variables of the example tabs that need them.
import { createContext, useContext, useState } from 'react';
import { useGraphiQL, useGraphiQLActions } from '@graphiql/react';
import { request, searchUsers } from './api.js';

/** The signed-in session (or null), provided by App around GraphiQL. */
export const SessionContext = createContext(null);

const START = `mutation PickerStartConversation($userId: ID!) {
  createDirectConversation(userId: $userId) { id }
}`;

function parseVariables(text) {
  try {
    const v = JSON.parse(text || '{}');
    return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
  } catch {
    return {};
  }
}

function PeopleIcon(props) {
  return (
    <svg viewBox="0 0 24 24" width="1em" height="1em" fill="none" stroke="currentColor" strokeWidth="1.5" {...props}>
      <circle cx="9" cy="8" r="3.5" />
      <path d="M2.5 20c0-3.6 2.9-6 6.5-6s6.5 2.4 6.5 6" />
      <circle cx="17" cy="9" r="2.5" />
      <path d="M16 14.2c3 .2 5.5 2.3 5.5 5.3" />
    </svg>
  );
}

function PeopleContent() {
  const session = useContext(SessionContext);
  const tabs = useGraphiQL((s) => s.tabs);
  const variableEditor = useGraphiQL((s) => s.variableEditor);
  const { changeTab } = useGraphiQLActions();
  const [query, setQuery] = useState('');
  const [users, setUsers] = useState([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');

  // Switches to the tab named `title` and rewrites its variables.
  const fillTab = (title, update) => {
    const i = tabs.findIndex((t) => t.title === title);
    if (i < 0) throw new Error(`No "${title}" tab: press "Reset" in the settings to restore the example tabs.`);
    changeTab(i);
    setTimeout(() => {
      const next = update(parseVariables(variableEditor ? variableEditor.getValue() : tabs[i].variables));
      variableEditor?.setValue(JSON.stringify(next, null, 2));
    }, 0);
  };

  const act = async (fn) => {
    setError('');
    setMessage('');
    try {
      await fn();
    } catch (err) {
      setError(err && err.message ? err.message : String(err));
    }
  };

  const search = (e) => {
    e.preventDefault();
    act(async () => {
      if (!session) throw new Error('Sign in first: use the sign-in helper above.');
      const found = await searchUsers(query.trim(), session.token);
      setUsers(found);
      if (!found.length) setMessage('No user matches.');
    });
  };

  const start = (u) =>
    act(async () => {
      const data = await request(START, { userId: u.id }, session && session.token);
      const id = data.createDirectConversation.id;
      fillTab('SendMessage', (v) => ({ ...v, input: { ...(v.input || {}), conversationId: id } }));
      setMessage(`Conversation with @${u.username} ready: its id is in the SendMessage variables.`);
    });

  const addToGroup = (u) =>
    act(async () => {
      fillTab('CreateGroup', (v) => {
        const ids = (Array.isArray(v.memberIds) ? v.memberIds : []).filter((x) => x && x !== '...' && x !== u.id);
        return { ...v, memberIds: [...ids, u.id] };
      });
      setMessage(`@${u.username} added to memberIds of CreateGroup.`);
    });

  return (
    <div className="pg-people">
      <div className="graphiql-doc-explorer-title">People</div>
      <form onSubmit={search}>
        <input id="pg-user-search" placeholder="username or name prefix" value={query}
          onChange={(e) => setQuery(e.target.value)} />
        <button id="pg-user-search-go" type="submit">Search</button>
      </form>
      {error ? <p id="pg-people-error" className="pg-error">{error}</p> : null}
      {message ? <p id="pg-people-message">{message}</p> : null}
      <ul id="pg-user-results">
        {users.map((u) => (
          <li key={u.id} data-username={u.username}>
            <span><b>{u.displayName}</b> @{u.username}</span>
            <span>
              <button type="button" className="pg-user-start" onClick={() => start(u)}>Start conversation</button>
              <button type="button" className="pg-user-group" onClick={() => addToGroup(u)}>Add to group</button>
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** GraphiQL plugin object; its sidebar button is labelled "Show People". */
export const peoplePlugin = { title: 'People', icon: PeopleIcon, content: PeopleContent };
