// Event log: every result a subscription delivered, newest first, so an
// event is still visible after the next one replaced it in the response pane.

/** Most entries kept; older ones are dropped. */
export const EVENT_LOG_LIMIT = 200;

function compact(value, max = 140) {
  const text = JSON.stringify(value, (k, v) => (k === '__typename' || k === 'cursor' ? undefined : v));
  return text && text.length > max ? `${text.slice(0, max - 1)}…` : text || '';
}

function summarize(event) {
  const m = event.message;
  if (m && typeof m === 'object' && ('body' in m || 'seq' in m)) {
    const who = m.sender && m.sender.username ? `@${m.sender.username}` : '';
    return [m.seq != null ? `#${m.seq}` : '', who, m.body != null ? JSON.stringify(m.body) : '']
      .filter(Boolean)
      .join(' ');
  }
  return compact(event);
}

/**
 * Turns one subscription result into a log entry: `{ type, cursor, summary }`.
 * The event is the value of the result's (single) root field.
 */
export function describeResult(result) {
  if (result && Array.isArray(result.errors) && result.errors.length) {
    return { type: 'error', cursor: '', summary: result.errors.map((e) => e.message).join('; ') };
  }
  const data = (result && result.data) || {};
  const root = Object.values(data)[0];
  if (!root || typeof root !== 'object') return { type: 'result', cursor: '', summary: compact(data) };
  return { type: root.__typename || 'event', cursor: root.cursor || '', summary: summarize(root) };
}

/** Right-hand panel listing `entries` ({ id, at, type, cursor, summary }), newest first. */
export function EventLog({ entries, notice, onClear }) {
  return (
    <aside className="pg-events" aria-label="Event log">
      <div className="pg-events-head">
        <strong>Events</strong>
        <span id="pg-event-count">{entries.length}</span>
        <button id="pg-events-clear" type="button" disabled={!entries.length} onClick={onClear}>Clear</button>
      </div>
      {notice ? <div id="pg-event-notice" className="pg-notice" role="alert">{notice}</div> : null}
      {entries.length === 0 && !notice ? (
        <p className="pg-events-empty">Run the Events subscription; everything it receives is listed here.</p>
      ) : null}
      <ol id="pg-event-log">
        {entries.map((e) => (
          <li key={e.id} className={e.type === 'error' ? 'pg-error' : ''} data-type={e.type}>
            <div className="pg-event-meta">
              <time>{e.at.toLocaleTimeString()}</time> <b className="pg-event-type">{e.type}</b>
              {e.cursor ? <code title={`cursor ${e.cursor}`}>{e.cursor}</code> : null}
            </div>
            <div className="pg-event-summary">{e.summary}</div>
          </li>
        ))}
      </ol>
    </aside>
  );
}
