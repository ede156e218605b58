package server_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/netcut"
	"messenger/realtime/redislog"
)

// When the event stream's backend goes away under a live subscription,
// the server closes the socket with 1013 "try again later" (graphql-ws
// clients reconnect by themselves and resume from their last cursor), and
// /metrics counts the close. The outage is real: the event log runs on the
// development Redis behind a TCP proxy that the test cuts.
func TestSubscriberIsToldToTryAgainLaterWhenTheEventStreamIsLost(t *testing.T) {
	proxy := netcut.New(t, firstRedis(t))
	log, err := redislog.New(context.Background(), redislog.Config{
		Addrs:     []string{proxy.Addr()},
		KeyPrefix: "t1013:" + randomSuffix() + ":",
		// Notice the outage soon: poll often, give up on reads after 300 ms.
		Timeout: 200 * time.Millisecond, PollInterval: 100 * time.Millisecond, OutageGrace: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	api := startObserved(t, observedOptions{log: log})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)

	s := acked(t, api.URL, bob.Token)
	s.send(subscribeOp("1"))
	waitPresence(t, bob, bob.UserID, true) // the stream is registered
	alice.Must(t, send, map[string]any{"c": conv, "k": "before", "b": "through redis"}, nil)
	var got struct {
		Data struct{ Events apitest.Event } `json:"data"`
	}
	for got.Data.Events.Typename != "MessageAdded" {
		m := s.next()
		if m.Type != "next" {
			t.Fatalf("want next, got %+v", m)
		}
		if err := json.Unmarshal(m.Payload, &got); err != nil {
			t.Fatal(err)
		}
	}

	proxy.SetUp(false)
	expectClose(t, s, 1013, "reconnect and resume")
	if n := sample(scrape(t, api.URL), "messenger_websocket_server_closes_total", map[string]string{"code": "1013"}); n != 1 {
		t.Fatalf("messenger_websocket_server_closes_total{code=\"1013\"} = %v, want 1", n)
	}
}
