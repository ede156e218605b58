package deploy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// manifests is every object of k8s/*.yaml, decoded strictly (an unknown
// or misspelt field, or a value of the wrong type, fails) into the API
// type of its apiVersion and kind.
type manifests struct {
	deployments     []*appsv1.Deployment
	jobs            []*batchv1.Job
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	hpas            []*autoscalingv2.HorizontalPodAutoscaler
	pdbs            []*policyv1.PodDisruptionBudget
	serviceMonitors []*monitoringv1.ServiceMonitor
	networkPolicies []*networkingv1.NetworkPolicy
}

func loadManifests(t *testing.T) manifests {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in k8s/: %v", err)
	}
	var m manifests
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(b), -1) {
			if strings.TrimSpace(regexp.MustCompile(`(?m)^#.*$`).ReplaceAllString(doc, "")) == "" {
				continue
			}
			if err := m.add([]byte(doc)); err != nil {
				t.Errorf("%s, document %d: %v", f, i+1, err)
			}
		}
	}
	return m
}

func decode[T any](doc []byte, list *[]*T) error {
	v := new(T)
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func (m *manifests) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "apps/v1 Deployment":
		return decode(doc, &m.deployments)
	case "batch/v1 Job":
		return decode(doc, &m.jobs)
	case "v1 Service":
		return decode(doc, &m.services)
	case "v1 ConfigMap":
		return decode(doc, &m.configMaps)
	case "v1 Secret":
		return decode(doc, &m.secrets)
	case "autoscaling/v2 HorizontalPodAutoscaler":
		return decode(doc, &m.hpas)
	case "policy/v1 PodDisruptionBudget":
		return decode(doc, &m.pdbs)
	case "monitoring.coreos.com/v1 ServiceMonitor":
		return decode(doc, &m.serviceMonitors)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decode(doc, &m.networkPolicies)
	}
	return fmt.Errorf("unexpected object %s %s: add its type to the test", tm.APIVersion, tm.Kind)
}

func (m manifests) api(t *testing.T) (*appsv1.Deployment, *corev1.Container) {
	t.Helper()
	if len(m.deployments) != 1 || len(m.deployments[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("want one Deployment with one container, got %d deployments", len(m.deployments))
	}
	d := m.deployments[0]
	return d, &d.Spec.Template.Spec.Containers[0]
}

func selects(t *testing.T, what string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || s.Empty() || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s's selector %v does not select the API pods %v (%v)", what, sel, podLabels, err)
	}
}

func TestAPIDeploymentProbesHealthAndReadinessAsNonRoot(t *testing.T) {
	m := loadManifests(t)
	d, c := m.api(t)
	pod := d.Spec.Template
	selects(t, "the Deployment", d.Spec.Selector, pod.Labels)
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for name, probe := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe, "startup": c.StartupProbe} {
		want := map[string]string{"liveness": "/healthz", "readiness": "/readyz", "startup": "/healthz"}[name]
		if probe == nil || probe.HTTPGet == nil || probe.HTTPGet.Path != want {
			t.Errorf("%s probe: want GET %s, got %+v", name, want, probe)
			continue
		}
		if _, ok := ports[probe.HTTPGet.Port.String()]; !ok {
			t.Errorf("%s probe asks port %s, which the container does not declare", name, probe.HTTPGet.Port.String())
		}
	}
	sc := pod.Spec.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("the pod may run as root: %+v", sc)
	}
	if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem {
		t.Error("the container's root filesystem is writable")
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
		t.Error("fewer than two replicas")
	}
}

func TestSettingsComeFromTheConfigMapAndTheJWTKeyFromTheSecret(t *testing.T) {
	m := loadManifests(t)
	_, c := m.api(t)
	if len(m.configMaps) != 1 || len(m.secrets) != 1 {
		t.Fatalf("want one ConfigMap and one Secret, got %d and %d", len(m.configMaps), len(m.secrets))
	}
	cm, sec := m.configMaps[0], m.secrets[0]
	if _, ok := sec.StringData["MESSENGER_JWT_SECRET"]; !ok {
		t.Error("the Secret has no MESSENGER_JWT_SECRET")
	}
	if _, ok := cm.Data["MESSENGER_JWT_SECRET"]; ok {
		t.Error("the token key is in the ConfigMap")
	}
	if cm.Data["MESSENGER_MIGRATE"] != "false" {
		t.Error("pods migrate at start; the migrate Job does that before a rollout")
	}
	for _, k := range requiredInProduction(t) {
		if cm.Data[k] == "" && sec.StringData[k] == "" {
			t.Errorf("the pods run in production without %s, which the README says production requires", k)
		}
	}
	known := readmeSettings(t)
	for k := range cm.Data {
		if !known[k] {
			t.Errorf("ConfigMap key %s is not a setting in the README's table", k)
		}
	}
	for k := range sec.StringData {
		if !known[k] {
			t.Errorf("Secret key %s is not a setting in the README's table", k)
		}
	}
	containers := []*corev1.Container{c}
	if len(m.jobs) != 1 || len(m.jobs[0].Spec.Template.Spec.Containers) != 1 {
		t.Fatal("want one migrate Job with one container")
	}
	job := &m.jobs[0].Spec.Template.Spec.Containers[0]
	if strings.Join(job.Args, " ") != "migrate" || job.Image != c.Image {
		t.Errorf("the Job should run `migrate` from the API's image: args %v, image %s", job.Args, job.Image)
	}
	for _, ctr := range append(containers, job) {
		var fromCM, fromSecret bool
		for _, e := range ctr.EnvFrom {
			fromCM = fromCM || e.ConfigMapRef != nil && e.ConfigMapRef.Name == cm.Name
			fromSecret = fromSecret || e.SecretRef != nil && e.SecretRef.Name == sec.Name
		}
		if !fromCM || !fromSecret {
			t.Errorf("container %s does not read ConfigMap %s and Secret %s", ctr.Name, cm.Name, sec.Name)
		}
	}
}

func TestAutoscalingDisruptionBudgetAndMonitoringTargetTheAPI(t *testing.T) {
	m := loadManifests(t)
	d, c := m.api(t)
	pod := d.Spec.Template.Labels
	if len(m.hpas) != 1 || len(m.pdbs) != 1 || len(m.services) != 1 || len(m.serviceMonitors) != 1 {
		t.Fatalf("want one HPA, PDB, Service and ServiceMonitor, got %d %d %d %d", len(m.hpas), len(m.pdbs), len(m.services), len(m.serviceMonitors))
	}
	hpa := m.hpas[0]
	if ref := hpa.Spec.ScaleTargetRef; ref.Kind != "Deployment" || ref.Name != d.Name || ref.APIVersion != "apps/v1" {
		t.Errorf("the HPA scales %+v, not Deployment %s", ref, d.Name)
	}
	if hpa.Spec.MinReplicas == nil || *hpa.Spec.MinReplicas < 2 || hpa.Spec.MaxReplicas < *hpa.Spec.MinReplicas {
		t.Errorf("HPA bounds %v..%d", hpa.Spec.MinReplicas, hpa.Spec.MaxReplicas)
	}
	if c.Resources.Requests.Cpu().IsZero() {
		t.Error("the HPA scales on CPU utilisation but the container requests no CPU")
	}
	selects(t, "the PodDisruptionBudget", m.pdbs[0].Spec.Selector, pod)

	svc := m.services[0]
	selects(t, "the Service", &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, pod)
	svcPorts := map[string]bool{}
	for _, p := range svc.Spec.Ports {
		svcPorts[p.Name] = true
		found := false
		for _, cp := range c.Ports {
			found = found || cp.Name == p.TargetPort.String()
		}
		if !found {
			t.Errorf("Service port %s targets %s, which the container does not declare", p.Name, p.TargetPort.String())
		}
	}
	sm := m.serviceMonitors[0]
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor does not select Service %s (labels %v)", svc.Name, svc.Labels)
	}
	if len(sm.Spec.Endpoints) == 0 || sm.Spec.Endpoints[0].Path != "/metrics" || !svcPorts[sm.Spec.Endpoints[0].Port] {
		t.Errorf("the ServiceMonitor does not scrape /metrics on a Service port: %+v", sm.Spec.Endpoints)
	}
	// Production serves /metrics on the private MESSENGER_DEBUG_ADDR
	// listener only: the scraped port must be that listener's.
	_, debugPort, _ := strings.Cut(m.configMaps[0].Data["MESSENGER_DEBUG_ADDR"], ":")
	for _, p := range svc.Spec.Ports {
		if p.Name != sm.Spec.Endpoints[0].Port {
			continue
		}
		for _, cp := range c.Ports {
			if cp.Name == p.TargetPort.String() && fmt.Sprint(cp.ContainerPort) != debugPort {
				t.Errorf("the ServiceMonitor scrapes container port %d, but MESSENGER_DEBUG_ADDR listens on %q", cp.ContainerPort, debugPort)
			}
		}
	}
	if len(m.networkPolicies) != 1 {
		t.Fatal("want one NetworkPolicy keeping the metrics listener private")
	}
	selects(t, "the NetworkPolicy", &m.networkPolicies[0].Spec.PodSelector, pod)
}

// A manifest with a misspelt field is refused: the decoding is strict.
func TestAMisspeltFieldIsRefused(t *testing.T) {
	var m manifests
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replica: 2\n")
	if err := m.add(doc); err == nil {
		t.Fatal("a Deployment with `replica:` decoded")
	}
	if err := m.add(bytes.ReplaceAll(doc, []byte("replica:"), []byte("replicas:"))); err != nil {
		t.Fatalf("the corrected Deployment: %v", err)
	}
}
