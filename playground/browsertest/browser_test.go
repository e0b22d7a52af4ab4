// Package browsertest drives the playground (playground/site with the
// WebAssembly engine) in headless Chromium. It is its own module so that
// users of the library never inherit chromedp.
//
// The site is built once per run with scripts/build-playground.sh and served
// on 127.0.0.1; all tests share one browser, each in its own tab. Without
// /usr/bin/chromium (or $PGHBA_CHROMIUM) every test skips, except under
// CI=true, where they fail: scripts/install-browser.sh installs it.
//
//	go test ./...                            # from playground/browsertest
//	go test -run Screenshot -update-screenshot  # also rewrite docs/playground.png
package browsertest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "write the screenshot to docs/playground.png too")

var (
	siteURL    string
	siteDir    string
	browserCtx context.Context
	skipReason string
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

func run(m *testing.M) int {
	bin := os.Getenv("PGHBA_CHROMIUM")
	if bin == "" {
		bin = "/usr/bin/chromium"
	}
	if _, err := os.Stat(bin); err != nil {
		skipReason = fmt.Sprintf("no Chromium at %s (bash scripts/install-browser.sh installs it)", bin)
		if os.Getenv("CI") == "true" {
			fmt.Fprintln(os.Stderr, "browsertest: CI=true and", skipReason)
			return 1
		}
		fmt.Fprintln(os.Stderr, "browsertest: skipping:", skipReason)
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "pghba-playground-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	siteDir = filepath.Join(dir, "site")
	build := exec.Command("bash", "../../scripts/build-playground.sh", siteDir)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "browsertest: building the playground:", err)
		return 1
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(siteDir)))
	defer srv.Close()
	siteURL = srv.URL + "/"

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("mute-audio", true),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		fmt.Fprintln(os.Stderr, "browsertest: starting Chromium:", err)
		return 1
	}
	browserCtx = bctx
	return m.Run()
}

// tab opens a new tab at the page with fragment and waits for the first result.
func tab(t *testing.T, fragment string) context.Context {
	t.Helper()
	if browserCtx == nil {
		t.Skip(skipReason)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab, without a deadline
		t.Fatal(err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelT)
	must(t, ctx, chromedp.Navigate(siteURL+fragment))
	waitJS(t, ctx, `document.body.dataset.ready === "true" && document.body.dataset.busy === "false"`)
	t.Cleanup(func() { // runs before the tab closes
		var errs []string
		js(t, ctx, `pghbaStats.errors`, &errs)
		if len(errs) > 0 {
			t.Errorf("script errors in the page: %v", errs)
		}
	})
	return ctx
}

func must(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// js evaluates expr in the page and decodes its value into out (may be nil).
func js(t *testing.T, ctx context.Context, expr string, out any) {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v (%s)", expr, err, raw)
		}
	}
}

// waitJS polls until expr is true; it fails the test at the context deadline.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+expr+")"))
		if err == nil && ok {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("waiting for %s: %v", expr, ctx.Err())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seq is the number of results the page has rendered.
func seq(t *testing.T, ctx context.Context, name string) int {
	t.Helper()
	var s string
	js(t, ctx, `document.body.dataset.`+name, &s)
	var n int
	fmt.Sscan(s, &n)
	return n
}

// settle waits for a result newer than before that no later edit supersedes.
func settle(t *testing.T, ctx context.Context, before int) {
	t.Helper()
	waitJS(t, ctx, fmt.Sprintf(`Number(document.body.dataset.seq) > %d && document.body.dataset.busy === "false"`, before))
}

// settleTyped waits, after keys were sent to the editor, until the editor
// holds all of them (key events can still be in the renderer's queue when
// SendKeys returns) and the page has rendered the answer to that text.
func settleTyped(t *testing.T, ctx context.Context, before int, typed string) {
	t.Helper()
	b, _ := json.Marshal(typed)
	waitJS(t, ctx, `document.getElementById("editor").value.endsWith(`+string(b)+`)`)
	settle(t, ctx, before)
}

func settleAudit(t *testing.T, ctx context.Context, before int) {
	t.Helper()
	waitJS(t, ctx, fmt.Sprintf(`Number(document.body.dataset.auditSeq) > %d && document.body.dataset.auditBusy === "false"`, before))
}

// setEditor replaces the current tab's text as a paste would (one input event).
func setEditor(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	b, _ := json.Marshal(text)
	before := seq(t, ctx, "seq")
	js(t, ctx, `(() => { const e = document.getElementById("editor"); e.value = `+string(b)+`; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, nil)
	settle(t, ctx, before)
}

// selectValue sets a select or input as a user would, firing its event.
func setField(t *testing.T, ctx context.Context, id, value string) {
	t.Helper()
	b, _ := json.Marshal(value)
	before := seq(t, ctx, "seq")
	js(t, ctx, fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = %s; e.dispatchEvent(new Event(e.tagName === "SELECT" ? "change" : "input", {bubbles: true})); return true })()`, id, b), nil)
	settle(t, ctx, before)
}

type decision struct {
	Outcome string `json:"outcome"`
	Line    string `json:"line"`
	Text    string `json:"text"`
}

func getDecision(t *testing.T, ctx context.Context) decision {
	t.Helper()
	var d decision
	js(t, ctx, `(() => { const d = document.getElementById("decision"); return {outcome: d.dataset.outcome, line: d.dataset.line, text: d.textContent} })()`, &d)
	return d
}

type traceStep struct {
	File string `json:"file"`
	Line string `json:"line"`
	Text string `json:"text"`
}

func getTrace(t *testing.T, ctx context.Context) []traceStep {
	t.Helper()
	var s []traceStep
	js(t, ctx, `[...document.querySelectorAll("#trace button")].map(b => ({file: b.dataset.file, line: b.dataset.line, text: b.textContent}))`, &s)
	return s
}

func ruleLines(t *testing.T, ctx context.Context) []string {
	t.Helper()
	var s []string
	js(t, ctx, `[...document.querySelectorAll("#rules tbody tr")].map(r => r.dataset.line)`, &s)
	return s
}

// link builds a #s= share link from a state.
func link(t *testing.T, state any) string {
	t.Helper()
	b, err := json.Marshal(state)
	if err != nil {
		t.Fatal(err)
	}
	return "#s=" + base64.RawURLEncoding.EncodeToString(b)
}

type conn struct {
	Type        string `json:"type"`
	Addr        string `json:"addr,omitempty"`
	SSL         bool   `json:"ssl"`
	GSS         bool   `json:"gss"`
	DB          string `json:"db"`
	User        string `json:"user"`
	Replication string `json:"replication"`
	SystemUser  string `json:"system_user,omitempty"`
}

type state struct {
	Version int                 `json:"version"`
	SSL     bool                `json:"ssl"`
	Missing string              `json:"missing"`
	Files   map[string]string   `json:"files"`
	Roles   map[string][]string `json:"roles,omitempty"`
	Conn    conn                `json:"conn"`
}

// TestTypeFileRulesErrorDecisionTrace types a file with a bad line into the
// editor, then fixes it, and checks every part of the answer.
func TestTypeFileRulesErrorDecisionTrace(t *testing.T) {
	ctx := tab(t, link(t, state{Version: 16, Missing: "bsd,sspi", Files: map[string]string{"pg_hba.conf": ""},
		Conn: conn{Type: "host", Addr: "10.1.2.3", DB: "web", User: "carol"}}))
	if got := getDecision(t, ctx); got.Outcome != "not-loaded" {
		t.Fatalf("empty file: decision %+v, want not-loaded", got)
	}
	// Typed key by key: every keystroke re-evaluates.
	typed := "host all alice 10.0.0.0/8 md5\nhost app all 10.0.0.0/8 frobnicate\nhost all all 10.0.0.0/8 scram-sha-256\n"
	before := seq(t, ctx, "seq")
	must(t, ctx, chromedp.SendKeys(chromedp.CSS("#editor"), typed))
	settleTyped(t, ctx, before, typed)
	var value string
	js(t, ctx, `document.getElementById("editor").value`, &value)
	if value != typed {
		t.Fatalf("editor holds %q, want %q", value, typed)
	}
	if got := ruleLines(t, ctx); strings.Join(got, ",") != "1,2,3" {
		t.Errorf("rules rows: data-line %v, want 1,2,3", got)
	}
	var errText string
	js(t, ctx, `(document.querySelector('#errors [data-error-line="2"]') || {}).textContent || ""`, &errText)
	if !strings.Contains(errText, `invalid authentication method "frobnicate"`) {
		t.Errorf("error at line 2: %q, want PostgreSQL's text", errText)
	}
	var inline int
	js(t, ctx, `document.querySelectorAll('#marks .err[data-error-line="2"]').length`, &inline)
	if inline != 1 {
		t.Errorf("inline error marks at line 2: %d, want 1", inline)
	}
	var rowErr string
	js(t, ctx, `document.querySelector('#rules tr[data-line="2"]').lastChild.textContent`, &rowErr)
	if !strings.Contains(rowErr, "frobnicate") {
		t.Errorf("rules row 2 error column %q", rowErr)
	}
	if got := getDecision(t, ctx); got.Outcome != "not-loaded" || got.Line != "" {
		t.Errorf("file with an error: decision %+v, want not-loaded", got)
	}

	fixed := strings.Replace(typed, "frobnicate", "reject", 1)
	setEditor(t, ctx, fixed)
	got := getDecision(t, ctx)
	if got.Outcome != "matched" || got.Line != "pg_hba.conf:3" || !strings.Contains(got.Text, "scram-sha-256") {
		t.Fatalf("decision %+v, want matched at pg_hba.conf:3 (scram-sha-256)", got)
	}
	trace := getTrace(t, ctx)
	if len(trace) != 3 || trace[0].Line != "1" || trace[1].Line != "2" || trace[2].Line != "3" {
		t.Fatalf("trace %+v, want lines 1, 2 and the deciding 3", trace)
	}
	if !strings.Contains(trace[0].Text, "alice") || !strings.Contains(trace[0].Text, "carol") {
		t.Errorf("trace line 1 %q should name the rule's user and the connection's", trace[0].Text)
	}
	if !strings.Contains(trace[1].Text, "app") || !strings.Contains(trace[1].Text, "web") {
		t.Errorf("trace line 2 %q should say the database differs", trace[1].Text)
	}
	// Clicking a trace line highlights that rule in the editor.
	must(t, ctx, chromedp.Click(chromedp.CSS(`#trace button[data-line="2"]`)))
	var hl string
	js(t, ctx, `document.getElementById("editor-box").dataset.highlight + "|" + (document.getElementById("highlight") ? document.getElementById("highlight").style.top : "none")`, &hl)
	if !strings.HasPrefix(hl, "pg_hba.conf:2|") || strings.HasSuffix(hl, "none") {
		t.Errorf("after clicking trace line 2: highlight %q", hl)
	}

	// The connection reaches the rejecting line when it asks for app.
	setField(t, ctx, "conn-db", "app")
	if got := getDecision(t, ctx); got.Outcome != "rejected" || got.Line != "pg_hba.conf:2" || !strings.Contains(got.Text, `pg_hba.conf rejects connection for host "10.1.2.3", user "carol", database "app"`) {
		t.Errorf("decision %+v, want rejected at pg_hba.conf:2 with PostgreSQL's FATAL text", got)
	}

	// Lint: md5 on line 1, linked to docs/lint.md.
	var lint []map[string]string
	waitJS(t, ctx, `document.querySelector('#lint [data-check="md5"]')`)
	js(t, ctx, `[...document.querySelectorAll("#lint [data-check]")].map(e => ({check: e.dataset.check, line: e.dataset.line, href: e.querySelector("a").href}))`, &lint)
	found := false
	for _, f := range lint {
		if f["check"] == "md5" && f["line"] == "1" && strings.Contains(f["href"], "docs/lint.md") {
			found = true
		}
	}
	if !found {
		t.Errorf("lint findings %v: want md5 at line 1 linked to docs/lint.md", lint)
	}
	var expo int
	js(t, ctx, `document.querySelectorAll("#exposure tbody tr").length`, &expo)
	if expo == 0 {
		t.Errorf("exposure table is empty")
	}
}

// TestIncludedFileTab adds a file through the UI and reads it with @file.
func TestIncludedFileTab(t *testing.T) {
	ctx := tab(t, link(t, state{Version: 17, Missing: "bsd,sspi", Files: map[string]string{"pg_hba.conf": "host all @admins.txt 10.0.0.0/8 trust\nhost all all 10.0.0.0/8 reject\n"},
		Conn: conn{Type: "host", Addr: "10.9.9.9", DB: "x", User: "erin"}}))
	if got := getDecision(t, ctx); got.Outcome != "rejected" && got.Outcome != "not-loaded" {
		t.Logf("before the @file exists: %+v", got)
	}
	before := seq(t, ctx, "seq")
	must(t, ctx, chromedp.SendKeys(chromedp.CSS("#new-file-name"), "admins.txt"), chromedp.Click(chromedp.CSS("#add-file")))
	settle(t, ctx, before)
	var tabs []string
	js(t, ctx, `[...document.querySelectorAll("#tabs [role=tab]")].map(b => b.dataset.file + (b.getAttribute("aria-selected") === "true" ? "*" : ""))`, &tabs)
	if strings.Join(tabs, ",") != "pg_hba.conf,pg_ident.conf,admins.txt*" {
		t.Fatalf("tabs %v", tabs)
	}
	before = seq(t, ctx, "seq")
	must(t, ctx, chromedp.SendKeys(chromedp.CSS("#editor"), "frank erin"))
	settleTyped(t, ctx, before, "frank erin")
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:1" {
		t.Errorf("erin listed in admins.txt: decision %+v, want matched at pg_hba.conf:1", got)
	}
	var cell string
	js(t, ctx, `document.querySelector('#rules tr[data-line="1"]').children[5].textContent`, &cell)
	if cell != "{frank,erin}" {
		t.Errorf("user_name of line 1: %q, want {frank,erin}", cell)
	}
}

// TestVersionChangesMeaning: a /regex user is a literal name in 15 and a
// regular expression from 16.
func TestVersionChangesMeaning(t *testing.T) {
	ctx := tab(t, link(t, state{Version: 16, Missing: "bsd,sspi",
		Files: map[string]string{"pg_hba.conf": "host all /^adm 0.0.0.0/0 trust\nhost all all 0.0.0.0/0 reject\n"},
		Conn:  conn{Type: "host", Addr: "192.0.2.7", DB: "postgres", User: "admin"}}))
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:1" {
		t.Fatalf("16: decision %+v, want matched by the regex on line 1", got)
	}
	setField(t, ctx, "version", "15")
	got := getDecision(t, ctx)
	if got.Outcome != "rejected" || got.Line != "pg_hba.conf:2" {
		t.Fatalf("15: decision %+v, want rejected at line 2 (/^adm is a literal name)", got)
	}
	trace := getTrace(t, ctx)
	if len(trace) < 1 || !strings.Contains(trace[0].Text, "/^adm") {
		t.Errorf("15: trace %+v should say /^adm is not admin", trace)
	}
	var cols []string
	js(t, ctx, `[...document.querySelectorAll("#rules thead th")].map(e => e.textContent)`, &cols)
	if len(cols) > 0 && cols[0] == "rule_number" {
		t.Errorf("15 has no rule_number column: %v", cols)
	}
	// A user literally named /^adm matches in 15.
	setField(t, ctx, "conn-user", "/^adm")
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:1" {
		t.Errorf("15, user /^adm: decision %+v, want matched at line 1", got)
	}
	setField(t, ctx, "version", "16")
	if got := getDecision(t, ctx); got.Outcome != "rejected" {
		t.Errorf("16, user /^adm: decision %+v, want rejected (the regex needs a name starting adm)", got)
	}
}

// pageState is the page's own view of its state.
func pageState(t *testing.T, ctx context.Context) string {
	t.Helper()
	var s string
	js(t, ctx, `JSON.stringify(readState())`, &s)
	return s
}

// TestShareLink opens a #s= link, checks that everything comes back, then
// opens the page's own #z= link in another tab and compares; bad links
// leave the editor empty and say so.
func TestShareLink(t *testing.T) {
	st := state{Version: 14, SSL: true, Missing: "pam,bsd,sspi",
		Files: map[string]string{
			"pg_hba.conf":   "hostssl all @users 10.0.0.0/8 cert map=certs\nlocal all all peer\n",
			"users":         "ann\n\"b o b\"\n",
			"pg_ident.conf": "certs /^(.*)@example\\.com$ \\1\n",
		},
		Roles: map[string][]string{"ann": {"staff"}},
		Conn:  conn{Type: "host", Addr: "10.0.0.1", SSL: true, DB: "ledger", User: "ann", SystemUser: "ann@example.com"}}
	ctx := tab(t, link(t, st))
	var form map[string]any
	js(t, ctx, `(() => { const v = id => document.getElementById(id); return {version: v("version").value, ssl: v("server-ssl").checked, pam: v("feat-pam").checked,
		user: v("conn-user").value, db: v("conn-db").value, addr: v("conn-addr").value, connssl: v("conn-ssl").checked, sys: v("conn-system-user").value,
		roles: v("roles").value, editor: v("editor").value, tabs: [...document.querySelectorAll("#tabs [role=tab]")].map(b => b.dataset.file).join(",")} })()`, &form)
	want := map[string]any{"version": "14", "ssl": true, "pam": false, "user": "ann", "db": "ledger", "addr": "10.0.0.1", "connssl": true,
		"sys": "ann@example.com", "roles": "ann: staff", "editor": st.Files["pg_hba.conf"]}
	for k, v := range want {
		if form[k] != v {
			t.Errorf("restored %s = %#v, want %#v", k, form[k], v)
		}
	}
	if tabs, _ := form["tabs"].(string); !strings.Contains(tabs, "users") || !strings.Contains(tabs, "pg_ident.conf") {
		t.Errorf("tabs %q", form["tabs"])
	}
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:1" {
		t.Errorf("decision %+v, want matched at pg_hba.conf:1", got)
	}
	var ident string
	js(t, ctx, `document.getElementById("ident-result").dataset.outcome || ""`, &ident)
	if ident != "allowed" {
		t.Errorf("map check for ann@example.com: %q, want allowed", ident)
	}
	var stateJSON map[string]any
	if err := json.Unmarshal([]byte(pageState(t, ctx)), &stateJSON); err != nil {
		t.Fatal(err)
	}
	stWant, _ := json.Marshal(st)
	var stWantMap map[string]any
	json.Unmarshal(stWant, &stWantMap)
	if a, b := canon(stateJSON), canon(stWantMap); a != b {
		t.Errorf("page state\n%s\nwant\n%s", a, b)
	}

	// The page's own compressed link.
	waitJS(t, ctx, `location.hash.startsWith("#z=") && document.getElementById("share-link").value === location.href`)
	var zlink string
	js(t, ctx, `location.hash`, &zlink)
	orig := pageState(t, ctx)
	ctx2 := tab(t, zlink)
	if got := pageState(t, ctx2); got != orig {
		t.Errorf("state after opening %s:\n%s\nwant\n%s", zlink[:20]+"…", got, orig)
	}
	// The fragment is restored on hashchange, too: the #s= form of the same state.
	var slink string
	js(t, ctx2, `"#s=" + btoa(unescape(encodeURIComponent(JSON.stringify(readState())))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")`, &slink)
	if got := pageState(t, tab(t, slink)); got != orig {
		t.Errorf("state after opening the #s= form:\n%s\nwant\n%s", got, orig)
	}

	// Padding is accepted on #s=.
	padded := "#s=" + base64.URLEncoding.EncodeToString([]byte(`{"version":16,"files":{"pg_hba.conf":"local all all trust\n"}}`))
	if !strings.HasSuffix(padded, "=") {
		t.Fatalf("test link %s has no padding", padded)
	}
	if got := getDecision(t, tab(t, padded)); got.Outcome != "invalid" {
		t.Errorf("padded #s= link: decision %+v, want invalid (the state has no connection user)", got)
	}

	for _, bad := range []string{"#s=!!notbase64", "#z=AAAAAAAA", "#s=" + base64.RawURLEncoding.EncodeToString([]byte(`{"version":99,"files":{"pg_hba.conf":"local all all trust"}}`)),
		"#s=" + base64.RawURLEncoding.EncodeToString([]byte(`{"version":16,"files":{"pg_hba.conf":"local all all trust\n","../x":"y"}}`))} {
		ctx := tab(t, bad)
		var out struct {
			Shown  bool   `json:"shown"`
			Text   string `json:"text"`
			Editor string `json:"editor"`
			Files  int    `json:"files"`
		}
		js(t, ctx, `(() => { const b = document.getElementById("share-error"); return {shown: !b.hidden, text: b.textContent, editor: document.getElementById("editor").value, files: Object.values(files).filter(v => v !== "").length} })()`, &out)
		if !out.Shown || !strings.Contains(out.Text, "does not decode") || out.Editor != "" || out.Files != 0 {
			t.Errorf("%s: %+v, want the error shown and every file empty", bad, out)
		}
		if got := getDecision(t, ctx); got.Outcome != "not-loaded" {
			t.Errorf("%s: decision %+v, want not-loaded", bad, got)
		}
	}
}

// canon is JSON with sorted keys, for comparing states.
func canon(v any) string {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%s", k, canon(x[k]))
		}
		b.WriteString("}")
		return b.String()
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

// TestKeyboardOnlyAndLabels uses the page with the keyboard alone (Tab,
// typing, Enter) and checks that every control has a label.
func TestKeyboardOnlyAndLabels(t *testing.T) {
	ctx := tab(t, link(t, state{Version: 18, Missing: "bsd,sspi", Files: map[string]string{"pg_hba.conf": ""},
		Conn: conn{Type: "host", Addr: "10.0.0.8", DB: "db1"}}))
	var unlabelled []string
	js(t, ctx, `[...document.querySelectorAll("input, select, textarea, button")].filter(e => {
		if (e.tagName === "BUTTON") return e.textContent.trim() === "" && !e.getAttribute("aria-label");
		return e.labels.length === 0 || [...e.labels].every(l => l.textContent.trim() === "");
	}).map(e => e.id || e.outerHTML)`, &unlabelled)
	if len(unlabelled) != 0 {
		t.Errorf("controls without a label: %v", unlabelled)
	}

	// tabTo presses Tab until the element with id has the focus.
	tabTo := func(id string) {
		t.Helper()
		for i := 0; i < 60; i++ {
			var active string
			js(t, ctx, `document.activeElement ? document.activeElement.id : ""`, &active)
			if active == id {
				return
			}
			must(t, ctx, chromedp.KeyEvent("\t"))
		}
		t.Fatalf("Tab never reached #%s", id)
	}
	js(t, ctx, `document.activeElement.blur(), true`, nil)
	tabTo("editor")
	before := seq(t, ctx, "seq")
	must(t, ctx, chromedp.KeyEvent("host db1 all 10.0.0.0/8 reject\nhost all all 10.0.0.0/8 trust\n"))
	settle(t, ctx, before)
	tabTo("conn-user")
	before = seq(t, ctx, "seq")
	must(t, ctx, chromedp.KeyEvent("gina"))
	settle(t, ctx, before)
	if got := getDecision(t, ctx); got.Outcome != "rejected" || got.Line != "pg_hba.conf:1" {
		t.Fatalf("decision %+v, want rejected at line 1", got)
	}
	// Change the database with the keyboard alone: Shift+Tab back, type.
	tabTo("conn-db")
	before = seq(t, ctx, "seq")
	must(t, ctx, chromedp.KeyEvent("\b\b\bdb2"))
	settle(t, ctx, before)
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:2" {
		t.Fatalf("database db2: decision %+v, want matched at line 2", got)
	}
	// Reach the first trace line and activate it with Enter.
	for i := 0; i < 60; i++ {
		var line string
		js(t, ctx, `(document.activeElement && document.activeElement.closest("#trace")) ? document.activeElement.dataset.line : ""`, &line)
		if line == "1" {
			break
		}
		must(t, ctx, chromedp.KeyEvent("\t"))
	}
	must(t, ctx, chromedp.KeyEvent("\r"))
	var hl string
	js(t, ctx, `document.getElementById("editor-box").dataset.highlight`, &hl)
	if hl != "pg_hba.conf:1" {
		t.Errorf("Enter on trace line 1: highlight %q, want pg_hba.conf:1", hl)
	}
	// The version select works from the keyboard too.
	tabTo("version")
	before = seq(t, ctx, "seq")
	must(t, ctx, chromedp.KeyEvent("1"), chromedp.KeyEvent("3"))
	waitJS(t, ctx, fmt.Sprintf(`Number(document.body.dataset.seq) > %d && document.body.dataset.busy === "false"`, before))
	var v string
	js(t, ctx, `document.getElementById("version").value`, &v)
	if v != "13" {
		t.Errorf("version after typing 13 on the select: %q", v)
	}
}

// TestSpeedAndSize measures, and logs, the first result after page load,
// the keystroke-to-result time on a 1,000-line file and the gzipped size of
// the WebAssembly download. Nothing here is asserted on time.
func TestSpeedAndSize(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join(siteDir, "main.wasm"))
	if err != nil {
		if browserCtx == nil {
			t.Skip(skipReason)
		}
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(wasm)
	zw.Close()
	t.Logf("main.wasm: %d bytes, %d gzipped (-9)", len(wasm), gz.Len())

	ctx := tab(t, "")
	var first float64
	js(t, ctx, `pghbaStats.firstResultMs`, &first)
	t.Logf("first result rendered %.0f ms after navigation start", first)

	var b strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "host db%d user%d 10.%d.%d.0/24 scram-sha-256\n", i, i%50, i/256, i%256)
	}
	setEditor(t, ctx, b.String())
	setField(t, ctx, "conn-user", "user49")
	setField(t, ctx, "conn-db", "db999")
	setField(t, ctx, "conn-addr", "10.3.231.9")
	if got := getDecision(t, ctx); got.Outcome != "matched" || got.Line != "pg_hba.conf:1000" {
		t.Fatalf("1,000 lines: decision %+v, want matched at line 1000", got)
	}
	var times []float64
	for i := 0; i < 7; i++ {
		before := seq(t, ctx, "seq")
		// One keystroke at the end of the file: a comment character.
		must(t, ctx, chromedp.Focus(chromedp.CSS("#editor")))
		js(t, ctx, `(() => { const e = document.getElementById("editor"); e.selectionStart = e.selectionEnd = e.value.length; return true })()`, nil)
		must(t, ctx, chromedp.KeyEvent("#"))
		settle(t, ctx, before)
		var ms float64
		js(t, ctx, `pghbaStats.lastInputToResultMs`, &ms)
		times = append(times, ms)
	}
	var stats map[string]any
	js(t, ctx, `pghbaStats`, &stats)
	sort.Float64s(times)
	t.Logf("1,000-line file, keystroke to rendered result: median %.1f ms, min %.1f, max %.1f (last: worker %.1f ms, Go %v µs, render %.1f ms; lint+exposure %.0f ms)",
		times[len(times)/2], times[0], times[len(times)-1], stats["lastWorkerMs"], stats["lastGoMicros"], stats["lastRenderMs"], stats["lastAuditMs"])
}

// TestBadInputStaysResponsive pastes 10 MB, binary junk and 100,000 lines;
// the page keeps answering while the engine works and then shows a result.
func TestBadInputStaysResponsive(t *testing.T) {
	ctx := tab(t, "")
	cases := map[string]string{
		"binary": func() string {
			var b strings.Builder
			x := uint32(1)
			for i := 0; i < 200000; i++ {
				x = x*1664525 + 1013904223
				b.WriteByte(byte(x >> 24))
			}
			return strings.ToValidUTF8(b.String(), "\uFFFD") + "\x00\x01"
		}(),
		"100k-lines": strings.Repeat("host all all 10.0.0.0/8 scram-sha-256\n", 100000),
		"10MB":       strings.Repeat("host all all 10.0.0.0/8 md5 # padding padding padding padding padding padding\n", 10<<20/80),
	}
	for _, name := range []string{"binary", "100k-lines", "10MB"} {
		text := cases[name]
		b, _ := json.Marshal(text)
		before := seq(t, ctx, "seq")
		js(t, ctx, `pghbaStats.longestTaskMs = 0`, nil)
		start := time.Now()
		js(t, ctx, `(() => { const e = document.getElementById("editor"); e.value = `+string(b)+`; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, nil)
		pasted := time.Since(start)
		var handler float64
		js(t, ctx, `pghbaStats.lastHandlerMs`, &handler)
		var longestPaste float64
		js(t, ctx, `(() => { const m = pghbaStats.longestTaskMs; pghbaStats.longestTaskMs = 0; return m })()`, &longestPaste)
		// The page answers while the engine works: edit another field and read it back.
		js(t, ctx, `(() => { const e = document.getElementById("conn-system-user"); e.value = "probe"; return e.value })()`, nil)
		responsive := time.Since(start)
		settle(t, ctx, before)
		took := time.Since(start)
		var note string
		js(t, ctx, `document.getElementById("rules-note").textContent + " | " + document.getElementById("decision").dataset.outcome`, &note)
		var longest, worker float64
		js(t, ctx, `pghbaStats.longestTaskMs`, &longest)
		js(t, ctx, `pghbaStats.lastWorkerMs`, &worker)
		t.Logf("%s (%d bytes): paste through DevTools took %v (longest task %.0f ms, the page's input handler %.0f ms); then the page answered after %v, the result came after %v (worker %.0f ms); longest main-thread task after the paste %.0f ms: %s",
			name, len(text), pasted.Round(time.Millisecond), longestPaste, handler, (responsive - pasted).Round(time.Millisecond), (took - pasted).Round(time.Millisecond), worker, longest, note)
		var big struct {
			Shown    bool   `json:"shown"`
			Text     string `json:"text"`
			ReadOnly bool   `json:"readOnly"`
			Len      int    `json:"len"`
		}
		js(t, ctx, `({shown: !document.getElementById("big-note").hidden, text: document.getElementById("big-text").textContent, readOnly: document.getElementById("editor").readOnly, len: files["pg_hba.conf"].length})`, &big)
		if !big.Shown || !big.ReadOnly || big.Len != len([]rune(text)) && name != "binary" {
			t.Errorf("%s: big-file note %+v, want it shown, the editor read-only and the whole text kept", name, big)
		}
		if name == "100k-lines" {
			if !strings.Contains(note, "showing the first 2000 of 100000 rows") || !strings.HasSuffix(note, "matched") {
				t.Errorf("100,000 lines: %q", note)
			}
			waitJS(t, ctx, `document.getElementById("audit-note").textContent.includes("skipped")`)
		}
		if name == "binary" {
			var errs int
			js(t, ctx, `document.querySelectorAll("#errors [data-error-line]").length`, &errs)
			if errs == 0 {
				t.Errorf("binary junk: no load errors shown")
			}
		}
		js(t, ctx, `(() => { document.getElementById("conn-system-user").value = ""; return true })()`, nil)
	}
}

// TestWatchdogRestartsASlowEngine: with a 1 ms watchdog every evaluation is
// stopped; the page says so, restarts the worker and keeps answering.
func TestWatchdogRestartsASlowEngine(t *testing.T) {
	if browserCtx == nil {
		t.Skip(skipReason)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()
	must(t, ctx, chromedp.Navigate(siteURL+"?watchdog=1"))
	waitJS(t, ctx, `pghbaStats.restarts >= 2 && document.getElementById("engine-status").textContent.includes("took longer than")`)
	var d decision
	js(t, ctx, `({outcome: document.getElementById("decision").dataset.outcome, text: document.getElementById("decision").textContent})`, &d)
	if d.Outcome != "invalid" || !strings.Contains(d.Text, "was stopped") {
		t.Errorf("decision %+v, want the stop reported", d)
	}
	var v string
	js(t, ctx, `(() => { const e = document.getElementById("conn-user"); e.value = "still here"; return e.value })()`, &v)
	if v != "still here" {
		t.Errorf("page did not answer: %q", v)
	}
}

// TestScreenshot saves a screenshot of the sample page under the test's
// output (go test -artifacts keeps it) and, with -update-screenshot, as
// docs/playground.png.
func TestScreenshot(t *testing.T) {
	ctx := tab(t, "")
	waitJS(t, ctx, `Number(document.body.dataset.auditSeq) > 0`)
	must(t, ctx, chromedp.Click(chromedp.CSS(`#trace button[data-line="3"]`)))
	js(t, ctx, `window.scrollTo(0, 0), true`, nil)
	must(t, ctx, chromedp.EmulateViewport(1280, 1000), chromedp.Sleep(100*time.Millisecond))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("screenshot is not a PNG (%d bytes)", len(png))
	}
	dir := t.TempDir()
	if a, ok := any(t).(interface{ ArtifactDir() string }); ok {
		dir = a.ArtifactDir()
	}
	out := filepath.Join(dir, "playground.png")
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
	if *updateScreenshot {
		if err := os.WriteFile("../../docs/playground.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote ../../docs/playground.png")
	}
}
