// Command webhook is an example Kubernetes validating admission webhook
// for CloudNativePG-style Cluster resources: it loads spec.postgresql.pg_hba
// between the rules the operator adds before and after it, exactly as the
// cluster's PostgreSQL major version would, and denies a Cluster whose rules
// the server would refuse, with one message per element
// ("spec.postgresql.pg_hba[3]: invalid authentication method "md6"");
// lint findings go back as admission warnings.
//
// The AdmissionReview types are plain JSON types holding only the fields
// used: admission.k8s.io/v1 is a stable wire format, and k8s.io/api would
// add k8s.io/apimachinery and its dependencies to the examples module for
// four structs.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pghba/pghba/hba"
	"github.com/pghba/pghba/hba/audit"
)

// AdmissionReview is admission.k8s.io/v1 AdmissionReview, the fields used.
type AdmissionReview struct {
	APIVersion string             `json:"apiVersion"`
	Kind       string             `json:"kind"`
	Request    *AdmissionRequest  `json:"request,omitempty"`
	Response   *AdmissionResponse `json:"response,omitempty"`
}

// AdmissionRequest is the request of an AdmissionReview, the fields used.
type AdmissionRequest struct {
	UID       string          `json:"uid"`
	Operation string          `json:"operation"`
	Object    json.RawMessage `json:"object,omitempty"`
}

// AdmissionResponse is the response of an AdmissionReview.
type AdmissionResponse struct {
	UID      string   `json:"uid"`
	Allowed  bool     `json:"allowed"`
	Result   *Status  `json:"status,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Status is meta/v1 Status, the fields a denial carries.
type Status struct {
	Code    int            `json:"code,omitempty"`
	Reason  string         `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	Details *StatusDetails `json:"details,omitempty"`
}

// StatusDetails holds one cause per failing element.
type StatusDetails struct {
	Causes []StatusCause `json:"causes,omitempty"`
}

// StatusCause is one failing element: Field is its path, such as
// spec.postgresql.pg_hba[3].
type StatusCause struct {
	Type    string `json:"reason"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

// Cluster is the part of a CloudNativePG Cluster the webhook reads.
type Cluster struct {
	Spec struct {
		ImageName       string `json:"imageName"`
		ImageCatalogRef *struct {
			Major int `json:"major"`
		} `json:"imageCatalogRef"`
		PostgreSQL struct {
			PgHBA []string `json:"pg_hba"`
		} `json:"postgresql"`
	} `json:"spec"`
}

// Field is the path of the user's list, the name of its segment.
const Field = "spec.postgresql.pg_hba"

// Operator and Default are the rules around the user's list, modelled on
// what CloudNativePG writes before and after spec.postgresql.pg_hba.
var (
	Operator = []string{
		"local all all peer map=local",
		"hostssl postgres streaming_replica all cert",
		"hostssl replication streaming_replica all cert",
		"hostssl all cnpg_pooler_pgbouncer all cert",
	}
	Default = []string{"host all all all scram-sha-256"}
)

// Version returns the PostgreSQL major and minor version of the cluster:
// spec.imageCatalogRef.major if set (minor 0: the newest), else the tag of
// spec.imageName read as MAJOR[.MINOR][-suffix] ("…/postgresql:16.4-bookworm"
// is 16.4). ok is false when neither gives a supported version.
func Version(c *Cluster) (major, minor int, ok bool) {
	if r := c.Spec.ImageCatalogRef; r != nil && r.Major != 0 {
		return r.Major, 0, r.Major >= hba.MinVersion && r.Major <= hba.MaxVersion
	}
	img := c.Spec.ImageName
	if i := strings.IndexByte(img, '@'); i >= 0 {
		img = img[:i] // a digest
	}
	i := strings.LastIndexByte(img, ':')
	if i < 0 || strings.Contains(img[i:], "/") {
		return 0, 0, false
	}
	tag := img[i+1:]
	if j := strings.IndexAny(tag, "-_"); j >= 0 {
		tag = tag[:j]
	}
	majS, minS, _ := strings.Cut(tag, ".")
	major, err := strconv.Atoi(majS)
	if err != nil || major < hba.MinVersion || major > hba.MaxVersion {
		return 0, 0, false
	}
	if minS != "" {
		if minor, err = strconv.Atoi(minS); err != nil {
			minor = 0
		}
	}
	return major, minor, true
}

// Review validates one Cluster and returns the response (UID not set).
func Review(obj []byte) *AdmissionResponse {
	var c Cluster
	if err := json.Unmarshal(obj, &c); err != nil {
		return deny(http.StatusBadRequest, "BadRequest", "object is not a Cluster: "+err.Error(), nil)
	}
	var warnings []string
	major, minor, ok := Version(&c)
	if !ok {
		major, minor = hba.DefaultVersion, 0
		warnings = append(warnings, fmt.Sprintf("no PostgreSQL major version in spec.imageName %q or spec.imageCatalogRef.major: %s validated for PostgreSQL %d", c.Spec.ImageName, Field, major))
	}
	// CloudNativePG runs with ssl on; includes and @file are refused (the
	// Composed's default), since the operator writes no such files.
	p := &hba.Parser{Version: major, Minor: minor, SSL: true}
	comp := &hba.Composed{Segments: []hba.Segment{
		{Name: "operator", Lines: Operator},
		{Name: Field, Lines: c.Spec.PostgreSQL.PgHBA},
		{Name: "default", Lines: Default},
	}}
	f := p.ParseComposed(comp)
	if _, err := p.Compile(f); err != nil {
		var causes []StatusCause
		var msgs []string
		var list hba.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				causes = append(causes, StatusCause{Type: "FieldValueInvalid", Message: e.Msg, Field: e.Pos.String()})
				msgs = append(msgs, e.Error())
			}
		} else {
			msgs = append(msgs, err.Error())
		}
		r := deny(http.StatusUnprocessableEntity, "Invalid", strings.Join(msgs, "; "), causes)
		r.Warnings = warnings
		return r
	}
	return &AdmissionResponse{Allowed: true, Warnings: append(warnings, lintWarnings(p, f, comp)...)}
}

// lintWarnings is the one place the webhook lints: every finding as
// "segment[index]: check: message".
func lintWarnings(p *hba.Parser, f *hba.File, comp *hba.Composed) []string {
	var out []string
	for _, fd := range audit.Lint(f, audit.LintOptions{}) {
		out = append(out, comp.Locate(fd.Pos).String()+": "+string(fd.Check)+": "+fd.Message)
	}
	return out
}

func deny(code int, reason, msg string, causes []StatusCause) *AdmissionResponse {
	s := &Status{Code: code, Reason: reason, Message: msg}
	if len(causes) > 0 {
		s.Details = &StatusDetails{Causes: causes}
	}
	return &AdmissionResponse{Allowed: false, Result: s}
}

// maxBody bounds a request; the API server sends objects of at most a few
// megabytes.
const maxBody = 8 << 20

// Handler serves AdmissionReview requests (POST, application/json).
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "POST an AdmissionReview", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
		if err != nil || len(body) > maxBody {
			http.Error(w, "request body unreadable or over 8 MiB", http.StatusRequestEntityTooLarge)
			return
		}
		var rev AdmissionReview
		if err := json.Unmarshal(body, &rev); err != nil || rev.Request == nil {
			http.Error(w, "not an AdmissionReview with a request", http.StatusBadRequest)
			return
		}
		var resp *AdmissionResponse
		switch {
		case rev.Request.Operation == "DELETE" || len(rev.Request.Object) == 0:
			resp = &AdmissionResponse{Allowed: true}
		default:
			resp = Review(rev.Request.Object)
		}
		resp.UID = rev.Request.UID
		out := AdmissionReview{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview", Response: resp}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}
