// Pure edits of a Relay connection's edges, shared by the Apollo and urql
// cache policies. Each returns the connection unchanged (the same object)
// when there is nothing to do, so callers can tell and applying an event
// twice changes nothing the second time.

/** The parts of a connection these functions read. */
export interface EdgeList {
  edges: readonly unknown[];
  pageInfo?: { hasNextPage?: boolean; hasPreviousPage?: boolean } | null;
}

/** The edge type of a connection. */
export type EdgeOf<C extends EdgeList> = C['edges'][number];

/**
 * Appends edge at the end (the newest end of a history page) unless an
 * edge with that id is there already, or the list does not reach the end
 * (hasNextPage: a gap would open between the page and the new edge).
 */
export function appendEdge<C extends EdgeList>(conn: C, edge: EdgeOf<C>, id: string, idOf: (e: EdgeOf<C>) => string | undefined): C {
  if (conn.pageInfo?.hasNextPage || conn.edges.some((e) => idOf(e) === id)) return conn;
  return { ...conn, edges: [...conn.edges, edge] };
}

/** Removes the edge with this id, if any. */
export function removeEdge<C extends EdgeList>(conn: C, id: string, idOf: (e: EdgeOf<C>) => string | undefined): C {
  const edges = conn.edges.filter((e) => idOf(e) !== id);
  return edges.length === conn.edges.length ? conn : { ...conn, edges };
}

/**
 * Moves the edge with this id to the front (the most recently active end of
 * the conversation list), or inserts edge there when the list starts at the
 * front (no hasPreviousPage) and does not have it yet (edge null: only move).
 */
export function moveToFront<C extends EdgeList>(conn: C, edge: EdgeOf<C> | null, id: string, idOf: (e: EdgeOf<C>) => string | undefined): C {
  const i = conn.edges.findIndex((e) => idOf(e) === id);
  if (i === 0) return conn;
  if (i < 0 && (edge === null || conn.pageInfo?.hasPreviousPage)) return conn;
  const rest = i < 0 ? conn.edges : [...conn.edges.slice(0, i), ...conn.edges.slice(i + 1)];
  return { ...conn, edges: [i < 0 ? edge : conn.edges[i], ...rest] };
}
