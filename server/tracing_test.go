package server_test

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"messenger/apitest"
	"messenger/tracing"
	"messenger/tracing/tracingtest"
)

// startTracing sends the process's spans to an in-process OTLP/HTTP
// receiver (no collector runs on this machine) and returns it with a flush
// function: spans are asserted after a flush, never waited for.
func startTracing(t *testing.T) (*tracingtest.Receiver, func()) {
	t.Helper()
	for _, k := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED", "OTEL_TRACES_SAMPLER"} {
		t.Setenv(k, "")
	}
	tracingtest.RestoreGlobals(t)
	rcv := tracingtest.NewReceiver(t)
	shutdown, err := tracing.Start(context.Background(), tracing.Config{Endpoint: rcv.URL()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = shutdown(context.Background()) })
	return rcv, func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func TestGraphQLOperationIsASpanContinuingTheCallersTrace(t *testing.T) {
	rcv, flush := startTracing(t)
	api := startObserved(t, observedOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := do(t, http.MethodPost, api.URL+"/graphql", jsonBody(t, map[string]any{
		"query":     `mutation Send($c: ID!) { sendMessage(input: {conversationId: $c, clientMessageId: "t1", body: "traced"}) { id sender { username } } }`,
		"variables": map[string]any{"c": conv},
	}), map[string]string{
		"Content-Type":  "application/json",
		"Authorization": "Bearer " + alice.Token,
		"traceparent":   "00-" + traceID + "-" + parentID + "-01",
		"X-Request-Id":  "trace-me-1",
	})
	if r.Status != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	flush()

	ops := rcv.Named(t, "mutation Send")
	if len(ops) != 1 {
		t.Fatalf("want one span \"mutation Send\", got %+v", rcv.Spans(t))
	}
	op := ops[0]
	if op.TraceID != traceID || op.ParentID != parentID {
		t.Fatalf("the span is %s/%s under %q: the caller's traceparent %s/%s was not continued", op.TraceID, op.SpanID, op.ParentID, traceID, parentID)
	}
	for k, want := range map[string]string{
		"graphql.operation.type": "mutation",
		"graphql.operation.name": "Send",
		"messenger.result_code":  "OK",
		"messenger.request_id":   "trace-me-1",
	} {
		if op.Attrs[k] != want {
			t.Errorf("attribute %s = %q, want %q (all: %v)", k, op.Attrs[k], want, op.Attrs)
		}
	}
	if op.Kind != "SPAN_KIND_SERVER" || op.Service != "messenger-api" {
		t.Errorf("kind %s, service %q", op.Kind, op.Service)
	}
	// The backends it called are its children: the sender's name came
	// through the users loader.
	var children []string
	for _, s := range rcv.Spans(t) {
		if s.ParentID == op.SpanID && s.TraceID == traceID {
			children = append(children, s.Name)
		}
	}
	if !slices.Contains(children, "storage users") {
		t.Fatalf("children of the operation's span: %v, want a \"storage users\" span", children)
	}
}

func TestRefusedOperationIsTracedWithItsCode(t *testing.T) {
	rcv, flush := startTracing(t)
	api := startObserved(t, observedOptions{})
	r := do(t, http.MethodPost, api.URL+"/graphql", []byte(`{"query":"{ me { "}`), map[string]string{"Content-Type": "application/json"})
	if r.Code() != "GRAPHQL_PARSE_FAILED" {
		t.Fatalf("got %s", r.Body)
	}
	flush()
	spans := rcv.Named(t, "graphql")
	if len(spans) != 1 || spans[0].Attrs["messenger.result_code"] != "GRAPHQL_PARSE_FAILED" || spans[0].ParentID != "" {
		t.Fatalf("want one root span \"graphql\" with code GRAPHQL_PARSE_FAILED, got %+v", rcv.Spans(t))
	}
	if spans[0].Attrs["messenger.request_id"] != r.Header.Get("X-Request-Id") {
		t.Fatalf("span's request id %q, response's %q", spans[0].Attrs["messenger.request_id"], r.Header.Get("X-Request-Id"))
	}
}

// A subscription is traced as it starts; its events, which flow for
// hours, make no spans of their own.
func TestSubscriptionStartIsOneSpanAndItsEventsMakeNone(t *testing.T) {
	rcv, flush := startTracing(t)
	api := startObserved(t, observedOptions{})
	alice, bob := apitest.SignUp(t, api.URL, "alice"), apitest.SignUp(t, api.URL, "bob")
	conv := startDirect(t, alice, bob)
	events := subscribe(t, bob)
	for i, k := range []string{"e1", "e2", "e3"} {
		alice.Must(t, send, map[string]any{"c": conv, "k": k, "b": "hi"}, nil)
		if ev := events.NextOfType(t, "MessageAdded"); ev.Message.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, ev.Message.Seq)
		}
	}
	flush()
	subs := rcv.Named(t, "subscription")
	if len(subs) != 1 || subs[0].Attrs["graphql.operation.type"] != "subscription" || subs[0].Attrs["messenger.result_code"] != "OK" {
		t.Fatalf("want one span for the subscription's start, got %+v", subs)
	}
	// Encoding an event loads its sender: traced events would show it.
	var inTrace []string
	for _, s := range rcv.Spans(t) {
		if s.TraceID == subs[0].TraceID && s.SpanID != subs[0].SpanID {
			inTrace = append(inTrace, s.Name)
		}
	}
	if slices.Contains(inTrace, "storage users") {
		t.Fatalf("the events were traced under the subscription's span: %v", inTrace)
	}
}
