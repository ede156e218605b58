package main

import (
	"fmt"
	"testing"
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
