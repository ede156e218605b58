package server_test

import (
	"strings"
	"testing"
)

// Broadcast channels through GraphQL: createChannel, the CHANNEL kind,
// posting by owners only, joining by link, viewCount and bad input. The
// rules are tested beside the domain (chat/channels_test.go).

const (
	createChannelOp = `mutation($i: CreateChannelInput!) { createChannel(input: $i) { id kind title description memberCount myRole } }`
	channelReadOp   = `mutation($c: ID!, $s: Int!) { markRead(conversationId: $c, seq: $s) { id } }`
	channelViewsOp  = `query($c: ID!) { conversation(id: $c) { lastMessage { body readCount viewCount } } }`
)

func TestChannelGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	us := api.signUpMany(t, "chan", 3)
	owner, reader, outsider := us[0], us[1], us[2]
	var c struct {
		CreateChannel struct {
			ID, Kind, Title, Description, MyRole string
			MemberCount                          int
		}
	}
	owner.Must(t, createChannelOp, map[string]any{"i": map[string]any{"title": "News", "description": "daily"}}, &c)
	ch := c.CreateChannel
	if ch.Kind != "CHANNEL" || ch.Title != "News" || ch.Description != "daily" || ch.MemberCount != 1 || ch.MyRole != "OWNER" {
		t.Fatalf("created %+v", ch)
	}
	var l struct{ CreateInviteLink struct{ Code string } }
	owner.Must(t, createInviteOp, map[string]any{"c": ch.ID, "i": map[string]any{}}, &l)
	var j struct{ JoinByInvite struct{ Status string } }
	reader.Must(t, joinByInviteOp, map[string]any{"code": l.CreateInviteLink.Code}, &j)
	if j.JoinByInvite.Status != "JOINED" {
		t.Fatalf("join: %s", j.JoinByInvite.Status)
	}
	reader.Refused(t, "FORBIDDEN", modSendOp, map[string]any{"c": ch.ID, "k": "r1", "b": "may I?"})
	outsider.Refused(t, "NOT_FOUND", modSendOp, map[string]any{"c": ch.ID, "k": "o1", "b": "hi"})
	owner.Must(t, modSendOp, map[string]any{"c": ch.ID, "k": "o1", "b": "first post"}, nil)
	reader.Must(t, channelReadOp, map[string]any{"c": ch.ID, "s": 1}, nil)
	var v struct {
		Conversation struct {
			LastMessage struct {
				Body      string
				ReadCount int
				ViewCount *int
			}
		}
	}
	owner.Must(t, channelViewsOp, map[string]any{"c": ch.ID}, &v)
	if m := v.Conversation.LastMessage; m.Body != "first post" || m.ViewCount == nil || *m.ViewCount != 1 {
		t.Fatalf("views: %+v", m)
	}
}

func TestCreateChannelBadInputGraphQL(t *testing.T) {
	api := startAPI(t, testAPIConfig{})
	u := api.signUp(t, "chanbad")
	for name, in := range map[string]map[string]any{
		"empty title":      {"title": ""},
		"long title":       {"title": strings.Repeat("t", 129)},
		"long description": {"title": "ok", "description": strings.Repeat("d", 256)},
	} {
		t.Run(name, func(t *testing.T) {
			u.Refused(t, "BAD_USER_INPUT", createChannelOp, map[string]any{"i": in})
		})
	}
	var cs struct{ Conversations struct{ Edges []struct{} } }
	u.Must(t, `{ conversations { edges { cursor } } }`, nil, &cs)
	if len(cs.Conversations.Edges) != 0 {
		t.Fatalf("refused createChannel left %d conversations", len(cs.Conversations.Edges))
	}
}
