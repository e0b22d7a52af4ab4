package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// post sends the fixture to a real HTTP server running Handler and
// returns the decoded AdmissionReview.
func post(t *testing.T, srv *httptest.Server, fixture string) AdmissionReview {
	t.Helper()
	body, err := os.ReadFile("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s: HTTP %d %s", fixture, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var rev AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&rev); err != nil {
		t.Fatal(err)
	}
	var in AdmissionReview
	json.Unmarshal(body, &in)
	if rev.APIVersion != "admission.k8s.io/v1" || rev.Kind != "AdmissionReview" || rev.Response == nil || rev.Response.UID != in.Request.UID {
		t.Fatalf("%s: response %+v does not answer request %s", fixture, rev, in.Request.UID)
	}
	return rev
}

func newServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/validate", Handler())
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestWebhookDeniesPerElement(t *testing.T) {
	r := post(t, newServer(t), "invalid.json").Response
	if r.Allowed || r.Result == nil || r.Result.Code != 422 || r.Result.Details == nil {
		t.Fatalf("%+v", r)
	}
	var got []string
	for _, c := range r.Result.Details.Causes {
		got = append(got, c.Field+": "+c.Message)
	}
	want := []string{
		`spec.postgresql.pg_hba[0]: element ends in a backslash: PostgreSQL 14 and later join the next line to it`,
		`spec.postgresql.pg_hba[1]: specifying both host name and CIDR mask is invalid: "10.0.0.256/32"`,
		`spec.postgresql.pg_hba[2]: invalid authentication method "md6"`,
		`spec.postgresql.pg_hba[3]: could not open file "/admins": refused: a list of lines reads no other files`,
		`spec.postgresql.pg_hba[4]: authentication option not in name=value format: map`,
		`spec.postgresql.pg_hba[5]: clientcert can only be configured for "hostssl" rows`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("causes:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.Result.Message != strings.Join(want, "; ") {
		t.Fatalf("message %q", r.Result.Message)
	}
}

func TestWebhookAllowsWithWarnings(t *testing.T) {
	r := post(t, newServer(t), "valid.json").Response
	if !r.Allowed || r.Result != nil {
		t.Fatalf("%+v", r)
	}
	joined := strings.Join(r.Warnings, "\n")
	for _, w := range []string{"spec.postgresql.pg_hba[1]: duplicate: ", "spec.postgresql.pg_hba[2]: md5: "} {
		if !strings.Contains(joined, w) {
			t.Errorf("no warning %q in:\n%s", w, joined)
		}
	}
	if strings.Contains(joined, "no PostgreSQL major version") {
		t.Errorf("version not read from the image:\n%s", joined)
	}
}

func TestWebhookVersionFromImage(t *testing.T) {
	r := post(t, newServer(t), "pg13.json").Response
	if r.Allowed {
		t.Fatalf("%+v", r)
	}
	// In 13 the backslash is an option token and /regex is a plain name.
	c := r.Result.Details.Causes
	if len(c) != 1 || c[0].Field != "spec.postgresql.pg_hba[0]" || !strings.HasPrefix(c[0].Message, "authentication option not in name=value format") {
		t.Fatalf("%+v", c)
	}
	for _, tc := range []struct {
		image        string
		major, minor int
		ok           bool
	}{
		{"ghcr.io/cloudnative-pg/postgresql:16.4-bookworm", 16, 4, true},
		{"ghcr.io/cloudnative-pg/postgresql:18-standard-trixie", 18, 0, true},
		{"registry:5000/pg:15.4@sha256:abc", 15, 4, true},
		{"registry:5000/postgresql", 0, 0, false},
		{"postgres:12.3", 0, 0, false},
		{"postgres:latest", 0, 0, false},
	} {
		var cl Cluster
		cl.Spec.ImageName = tc.image
		if ma, mi, ok := Version(&cl); ma != tc.major || mi != tc.minor || ok != tc.ok {
			t.Errorf("%s: %d.%d %v", tc.image, ma, mi, ok)
		}
	}
}

func TestWebhookDeleteAndBadRequests(t *testing.T) {
	srv := newServer(t)
	if r := post(t, srv, "delete.json").Response; !r.Allowed {
		t.Fatalf("delete: %+v", r)
	}
	for _, body := range []string{"", "{", `{"kind":"AdmissionReview"}`} {
		resp, err := srv.Client().Post(srv.URL+"/validate", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%q: HTTP %d", body, resp.StatusCode)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/validate")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}
	// An object that is not a Cluster is denied, not crashed on.
	r := Review([]byte(`{"spec": {"postgresql": {"pg_hba": "one string"}}}`))
	if r.Allowed || r.Result.Code != 400 {
		t.Fatalf("%+v", r)
	}
}
