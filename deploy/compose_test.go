package deploy

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// loadCompose loads compose.yaml as `docker compose` would: validated
// against the Compose specification's schema, interpolated with env,
// anchors and dependencies resolved.
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  ".",
		ConfigFiles: []types.ConfigFile{{Filename: "compose.yaml"}},
		Environment: env,
	}, func(o *loader.Options) { o.SetProjectName("messenger", true) })
}

// apiServices are the services that run the API server from its image
// (not the one-shot migrate).
func apiServices(p *types.Project) []types.ServiceConfig {
	var out []types.ServiceConfig
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for n := range p.Services {
			if !yield(n) {
				return
			}
		}
	}) {
		s := p.Services[name]
		if strings.Contains(s.Image, "messenger") && !slices.Contains(s.Command, "migrate") {
			out = append(out, s)
		}
	}
	return out
}

func TestComposeRunsTwoAPIInstancesBehindAProxyWithEveryBackend(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"MESSENGER_JWT_SECRET": strings.Repeat("s", 48)})
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	for _, want := range []string{"cassandra", "redis", "opensearch", "minio", "proxy", "migrate"} {
		if _, ok := p.Services[want]; !ok {
			t.Errorf("no %s service", want)
		}
	}
	apis := apiServices(p)
	if len(apis) < 2 {
		t.Fatalf("want two API instances, got %d", len(apis))
	}
	nginx, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range apis {
		if !regexp.MustCompile(`server\s+` + s.Name + `:8080`).Match(nginx) {
			t.Errorf("nginx.conf does not proxy to %s:8080", s.Name)
		}
		if v := s.Environment["MESSENGER_MIGRATE"]; v == nil || *v != "false" {
			t.Errorf("%s migrates at start; the migrate service does that once", s.Name)
		}
		if d, ok := s.DependsOn["migrate"]; !ok || d.Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s does not wait for the migrate service to succeed: %+v", s.Name, s.DependsOn)
		}
		if v := s.Environment["MESSENGER_JWT_SECRET"]; v == nil || len(*v) < 32 {
			t.Errorf("%s has no shared token key", s.Name)
		}
	}
	if s := apis[0]; s.Environment["MESSENGER_JWT_SECRET"] == nil ||
		*s.Environment["MESSENGER_JWT_SECRET"] != *apis[1].Environment["MESSENGER_JWT_SECRET"] {
		t.Error("the API instances do not share one token key")
	}
	for name, s := range p.Services {
		if name != "migrate" && (s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 || s.HealthCheck.Disable) {
			t.Errorf("service %s has no health check", name)
		}
		for dep, d := range s.DependsOn {
			target, ok := p.Services[dep]
			if !ok {
				t.Errorf("%s depends on %s, which is not a service", name, dep)
				continue
			}
			if d.Condition == types.ServiceConditionHealthy && target.HealthCheck == nil {
				t.Errorf("%s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
	}
}

func TestComposeRefusesToStartWithoutATokenKey(t *testing.T) {
	if _, err := loadCompose(t, map[string]string{}); err == nil || !strings.Contains(err.Error(), "MESSENGER_JWT_SECRET") {
		t.Fatalf("compose.yaml loaded without MESSENGER_JWT_SECRET: %v", err)
	}
}

func TestComposeSettingsAreDocumentedInTheReadme(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"MESSENGER_JWT_SECRET": strings.Repeat("s", 48)})
	if err != nil {
		t.Fatal(err)
	}
	known := readmeSettings(t)
	for _, s := range p.Services {
		for k := range s.Environment {
			if strings.HasPrefix(k, "MESSENGER_") && !known[k] {
				t.Errorf("service %s sets %s, which the README's configuration table does not list", s.Name, k)
			}
		}
	}
}

// requiredInProduction lists the settings the README's configuration
// table says production requires: the deploy files run in production.
func requiredInProduction(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `(MESSENGER_[A-Z0-9_]+)` \\|.*required in production").FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	return out
}

func TestComposeSetsWhatProductionRequires(t *testing.T) {
	p, err := loadCompose(t, map[string]string{"MESSENGER_JWT_SECRET": strings.Repeat("s", 48)})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range append(apiServices(p), p.Services["migrate"]) {
		if v := s.Environment["MESSENGER_ENV"]; v == nil || *v != "production" {
			t.Errorf("%s does not run in production mode", s.Name)
		}
		for _, k := range requiredInProduction(t) {
			if v := s.Environment[k]; v == nil || *v == "" {
				t.Errorf("%s runs in production without %s, which the README says production requires", s.Name, k)
			}
		}
	}
}

// readmeSettings lists the MESSENGER_* variables of the README's
// configuration table (a row names one, or two as `X_USERNAME` / `_PASSWORD`).
func readmeSettings(t *testing.T) map[string]bool {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	row := regexp.MustCompile("(?m)^\\| `(MESSENGER_[A-Z0-9_]+)`(?: / `(_[A-Z0-9_]+)`)? \\|")
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		known[m[1]] = true
		if m[2] != "" { // the second replaces as many trailing words of the first
			words := strings.Split(m[1], "_")
			known[strings.Join(words[:len(words)-strings.Count(m[2], "_")], "_")+m[2]] = true
		}
	}
	if len(known) < 20 {
		t.Fatalf("found only %d settings in the README's table", len(known))
	}
	return known
}
