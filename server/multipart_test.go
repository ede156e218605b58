package server_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"messenger/apitest"
)

// postMultipart posts a GraphQL multipart request with these operations
// and map fields and one small file.
func postMultipart(t *testing.T, api *prodAPI, c *apitest.Client, operations, mapField string) rawResponse {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("operations", operations)
	_ = w.WriteField("map", mapField)
	fw, _ := w.CreateFormFile("0", "a.csv")
	_, _ = fw.Write([]byte("a,b\n1,2\n"))
	_ = w.Close()
	return do(t, http.MethodPost, api.URL+"/graphql", buf.Bytes(), map[string]string{
		"Content-Type": w.FormDataContentType(), "GraphQL-Require-Preflight": "1", "Authorization": "Bearer " + c.Token,
	})
}

// TestMultipartJSONFieldsAreHeldToTheJSONLimit: a multipart request may
// be 33 MiB for its files, but its operations and map fields are JSON like
// any other request's and get the same 1 MiB limit.
func TestMultipartJSONFieldsAreHeldToTheJSONLimit(t *testing.T) {
	api := startProd(t, prodOptions{})
	bob := apitest.SignUp(t, api.URL, "bob")
	ops := func(padding int) string {
		b, _ := json.Marshal(map[string]any{
			"query":      `mutation($f: Upload!) { uploadFile(file: $f) { id } }`,
			"variables":  map[string]any{"f": nil},
			"extensions": map[string]any{"padding": strings.Repeat("x", padding)},
		})
		return string(b)
	}
	const mapField = `{"0":["variables.f"]}`
	const threeMiB = 3 << 20
	for _, tc := range []struct {
		name, operations, mapField string
	}{
		{"operations of 3 MiB", ops(threeMiB), mapField},
		{"map of 3 MiB", ops(0), `{"0":["variables.f"],"pad":["` + strings.Repeat("x", threeMiB) + `"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := postMultipart(t, api, bob, tc.operations, tc.mapField)
			if r.Status != http.StatusRequestEntityTooLarge || r.Code() != "BAD_REQUEST" {
				t.Fatalf("want 413 BAD_REQUEST, got %d %.300s", r.Status, r.Body)
			}
		})
	}
	// Just under the limit the request reaches GraphQL (uploads are off in
	// this API, so uploadFile answers UNAVAILABLE).
	r := postMultipart(t, api, bob, ops(1<<20-200), mapField)
	if r.Status != http.StatusOK || r.Code() != "UNAVAILABLE" {
		t.Fatalf("operations under 1 MiB: %d %.300s", r.Status, r.Body)
	}
}
