package resolvers

import (
	"messenger/chat"
	"messenger/graph/model"
)

// searchConnection shapes a page of message hits as a Relay connection.
func searchConnection(p chat.SearchPage, hasPrev bool) *model.MessageSearchConnection {
	c := &model.MessageSearchConnection{Edges: make([]*model.MessageSearchEdge, len(p.Hits)), TotalCount: p.Total}
	for i := range p.Hits {
		c.Edges[i] = &model.MessageSearchEdge{Cursor: p.Hits[i].Cursor, Node: &p.Hits[i]}
	}
	var start, end string
	if len(p.Hits) > 0 {
		start, end = p.Hits[0].Cursor, p.Hits[len(p.Hits)-1].Cursor
	}
	c.PageInfo = pageInfo(start, end, hasPrev, p.HasNext)
	return c
}

// userConnection shapes a page of users found as a Relay connection.
func userConnection(p chat.UserSearchPage, hasPrev bool) *model.UserConnection {
	c := &model.UserConnection{Edges: make([]*model.UserEdge, len(p.Users))}
	for i := range p.Users {
		c.Edges[i] = &model.UserEdge{Cursor: p.Cursors[i], Node: &p.Users[i]}
	}
	var start, end string
	if len(p.Users) > 0 {
		start, end = p.Cursors[0], p.Cursors[len(p.Users)-1]
	}
	c.PageInfo = pageInfo(start, end, hasPrev, p.HasNext)
	return c
}
