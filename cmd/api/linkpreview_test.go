package main

import (
	"slices"
	"testing"
)

func TestLinkPreviewsAreOnInFleetModeAndOffEmbeddedByDefault(t *testing.T) {
	for _, tc := range []struct {
		hosts, setting string
		want           bool
	}{
		{"", "", false},
		{"cassandra:9042", "", true},
		{"", "true", true},
		{"cassandra:9042", "false", false},
	} {
		t.Setenv("MESSENGER_CASSANDRA_HOSTS", tc.hosts)
		t.Setenv("MESSENGER_LINK_PREVIEWS", tc.setting)
		c, err := loadConfig(nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.LinkPreviews != tc.want || !slices.Equal(c.LinkPreviewPorts, []int{80, 443}) {
			t.Errorf("hosts %q, setting %q: previews %v on ports %v, want %v on 80,443", tc.hosts, tc.setting, c.LinkPreviews, c.LinkPreviewPorts, tc.want)
		}
	}
}

func TestLinkPreviewSettingsAreChecked(t *testing.T) {
	t.Setenv("MESSENGER_CASSANDRA_HOSTS", "")
	t.Setenv("MESSENGER_LINK_PREVIEW_PORTS", "443, 8443")
	c, err := loadConfig(nil)
	if err != nil || !slices.Equal(c.LinkPreviewPorts, []int{443, 8443}) {
		t.Fatalf("ports = %v, %v", c.LinkPreviewPorts, err)
	}
	for env, bad := range map[string]string{
		"MESSENGER_LINK_PREVIEWS":      "maybe",
		"MESSENGER_LINK_PREVIEW_PORTS": "80,http",
	} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := loadConfig(nil); err == nil {
				t.Fatalf("%s=%s accepted", env, bad)
			}
		})
	}
	for _, bad := range []string{"0", "65536", ","} {
		t.Setenv("MESSENGER_LINK_PREVIEW_PORTS", bad)
		if _, err := loadConfig(nil); err == nil {
			t.Errorf("ports %q accepted", bad)
		}
	}
}
