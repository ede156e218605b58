package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"messenger/apitest"
)

func TestCassandraReplicationSettingIsParsed(t *testing.T) {
	for v, want := range map[string]string{"1": "1 map[]", "3": "3 map[]", "dc1:3,dc2:2": "0 map[dc1:3 dc2:2]"} {
		rf, dcs, err := parseReplication(v)
		if err != nil || fmtRF(rf, dcs) != want {
			t.Errorf("parseReplication(%q) = %d %v %v, want %s", v, rf, dcs, err, want)
		}
	}
	for _, bad := range []string{"0", "-1", "dc1", "dc1:x", ":3"} {
		if _, _, err := parseReplication(bad); err == nil {
			t.Errorf("parseReplication(%q) accepted", bad)
		}
	}
}

func TestNoConfigurationMeansEmbeddedDefaults(t *testing.T) {
	t.Setenv("MESSENGER_CASSANDRA_HOSTS", "")
	t.Setenv("MESSENGER_REDIS_ADDRS", "")
	c, err := loadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTPAddr != ":8080" || c.DataDir != "./data" || len(c.CassandraHosts) != 0 || len(c.RedisAddrs) != 0 || !c.Playground {
		t.Fatalf("defaults = %+v", c)
	}
}

func fmtRF(rf int, dcs map[string]int) string { return fmt.Sprint(rf, " ", dcs) }

func TestEventRetentionIsConfigurableAndChecked(t *testing.T) {
	t.Setenv("MESSENGER_EVENTS_MAX_LEN", "50")
	t.Setenv("MESSENGER_EVENTS_MAX_AGE", "10m")
	c, err := loadConfig(nil)
	if err != nil || c.EventsMaxLen != 50 || c.EventsMaxAge != 10*time.Minute {
		t.Fatalf("retention = %d %v, %v; want 50 10m", c.EventsMaxLen, c.EventsMaxAge, err)
	}
	for k, bad := range map[string]string{"MESSENGER_EVENTS_MAX_LEN": "0", "MESSENGER_EVENTS_MAX_AGE": "-1h"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, bad)
			if _, err := loadConfig(nil); err == nil {
				t.Fatalf("%s=%s accepted", k, bad)
			}
		})
	}
}

// The retention setting reaches the running API's event log: with room for
// 3 events per user, a cursor 5 events back is refused as expired.
func TestEventRetentionSettingExpiresOldCursors(t *testing.T) {
	bin := buildBinary(t)
	url, _ := startBinary(t, bin, t.TempDir(), append(embedded, "MESSENGER_EVENTS_MAX_LEN=3", "MESSENGER_RATE_LIMITS=false")...)
	alice := apitest.SignUp(t, url, "alice")
	bob := apitest.SignUp(t, url, "bob")
	var conv struct{ CreateDirectConversation struct{ ID string } }
	alice.Must(t, `mutation($u: ID!) { createDirectConversation(userId: $u) { id } }`, map[string]any{"u": bob.UserID}, &conv)
	events := bob.Subscribe(context.Background(), t, "")
	time.Sleep(200 * time.Millisecond)
	var first string
	for i := 1; i <= 5; i++ {
		alice.Must(t, `mutation($c: ID!, $k: String!) { sendMessage(input: {conversationId: $c, clientMessageId: $k, body: "hi"}) { seq } }`,
			map[string]any{"c": conv.CreateDirectConversation.ID, "k": fmt.Sprint("m", i)}, nil)
		if ev := events.NextOfType(t, "MessageAdded"); i == 1 {
			first = ev.Cursor
		}
	}
	_, errs := bob.Subscribe(context.Background(), t, first).NextOrError(t, 5*time.Second)
	if len(errs) == 0 || errs[0].Code() != "CURSOR_EXPIRED" {
		t.Fatalf("resuming 4 events back with 3 kept: %+v, want CURSOR_EXPIRED", errs)
	}
}

func TestLimitSettingsAreParsedAndChecked(t *testing.T) {
	t.Setenv("MESSENGER_RATE_EDIT", "1,7")
	t.Setenv("MESSENGER_RATE_REACT", "3,9")
	t.Setenv("MESSENGER_RATE_TYPING", "0.5,4")
	t.Setenv("MESSENGER_MAX_BATCH", "4")
	t.Setenv("MESSENGER_APQ_CACHE_BYTES", "2MiB")
	t.Setenv("MESSENGER_APQ_MAX_DOCUMENT", "1000")
	c, err := loadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.RateEdit.Burst != 7 || c.RateReact.Rate != 3 || c.RateTyping.Rate != 0.5 || c.MaxBatch != 4 || c.APQCacheBytes != 2<<20 || c.APQMaxDocument != 1000 {
		t.Fatalf("limits = edit %+v react %+v typing %+v batch %d apq %d/%d", c.RateEdit, c.RateReact, c.RateTyping, c.MaxBatch, c.APQCacheBytes, c.APQMaxDocument)
	}
	for k, bad := range map[string]string{"MESSENGER_RATE_EDIT": "5", "MESSENGER_RATE_REACT": "0,3", "MESSENGER_RATE_TYPING": "x,1",
		"MESSENGER_MAX_BATCH": "0", "MESSENGER_APQ_CACHE_BYTES": "16MB", "MESSENGER_APQ_MAX_DOCUMENT": "-1"} {
		t.Run(k, func(t *testing.T) {
			t.Setenv(k, bad)
			if _, err := loadConfig(nil); err == nil {
				t.Fatalf("%s=%s accepted", k, bad)
			}
		})
	}
}

func TestMetricsArePublicOnlyInDevelopmentByDefault(t *testing.T) {
	for _, tc := range []struct {
		env, public string
		want        bool
	}{{"development", "", true}, {"production", "", false}, {"production", "true", true}, {"development", "false", false}} {
		t.Setenv("MESSENGER_ENV", tc.env)
		t.Setenv("MESSENGER_METRICS_PUBLIC", tc.public)
		if c, err := loadConfig(nil); err != nil || c.MetricsPublic != tc.want {
			t.Errorf("%s with MESSENGER_METRICS_PUBLIC=%q: public %v, want %v (%v)", tc.env, tc.public, c.MetricsPublic, tc.want, err)
		}
	}
}

func TestWebsocketCompressionIsOnUnlessTurnedOff(t *testing.T) {
	for env, want := range map[string]bool{"unset": true, "true": true, "false": false} {
		t.Setenv("MESSENGER_WS_COMPRESSION", env)
		if env == "unset" {
			os.Unsetenv("MESSENGER_WS_COMPRESSION")
		}
		c, err := loadConfig(nil)
		if err != nil || c.WSCompression != want {
			t.Fatalf("MESSENGER_WS_COMPRESSION=%q: %v %v, want %v", env, c.WSCompression, err, want)
		}
	}
	t.Setenv("MESSENGER_WS_COMPRESSION", "sometimes")
	if _, err := loadConfig(nil); err == nil {
		t.Fatal("MESSENGER_WS_COMPRESSION=sometimes accepted")
	}
}
