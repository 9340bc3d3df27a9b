package testcluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/redis/go-redis/v9"

	"github.com/skiffdb/skiff/internal/testcluster"
)

// screenshotEnv names where TestDashboard_Browser saves its screenshot: a
// path (relative ones from the repository root), e.g.
//
//	SKIFF_SCREENSHOT=docs/dashboard.png go test ./internal/testcluster/ -run Dashboard_Browser
//
// Unset, the screenshot goes to the test's temporary directory, so normal
// runs write nothing into the repository.
const screenshotEnv = "SKIFF_SCREENSHOT"

// chromiumPath finds a Chromium or Chrome binary: $SKIFF_CHROMIUM, then the
// usual names on $PATH. "" when there is none.
func chromiumPath() string {
	if p := os.Getenv("SKIFF_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// dashboardState is what the page shows once it is live (read from the DOM).
type dashboardState struct {
	Members []string `json:"members"`
	Leader  string   `json:"leader"`
	Role    string   `json:"role"`
	Ops     float64  `json:"ops"`
	OpsText string   `json:"opsText"`
	Term    string   `json:"term"`
	Status  string   `json:"status"`
	DBs     int      `json:"dbs"`
}

// The predicate the page is polled with: false until the members table has
// 3 rows and the ops/s shown is above zero, then what the page shows.
const dashboardLive = `(() => {
  const rows = [...document.querySelectorAll('#members tbody tr')];
  const ops = document.getElementById('ops-now');
  if (rows.length !== 3 || !(Number(ops.dataset.value) > 0)) return false;
  const leader = document.querySelector('#members tbody tr.is-leader');
  return {
    members: rows.map(r => r.dataset.id),
    leader: leader ? leader.dataset.id : '',
    role: document.getElementById('role').textContent,
    ops: Number(ops.dataset.value),
    opsText: ops.textContent,
    term: document.getElementById('term').textContent,
    status: document.getElementById('status').dataset.state,
    dbs: document.querySelectorAll('#keyspace tbody tr').length,
  };
})()`

// TestDashboard_Browser loads the dashboard of a follower of a 3-node
// cluster under load in headless Chromium and checks that it shows the
// three members, the leader and a non-zero ops/s, then takes a screenshot.
// It needs Chromium (Debian: apt-get install chromium; .ci/run installs
// it) and skips without one.
func TestDashboard_Browser(t *testing.T) {
	if testing.Short() {
		t.Skip("dashboard browser test: skipped in -short mode (it starts a 3-node cluster and Chromium)")
	}
	browser := chromiumPath()
	if browser == "" {
		t.Skip("dashboard browser test: no Chromium found (looked for $SKIFF_CHROMIUM, chromium, chromium-browser, google-chrome, headless-shell on $PATH); install it with `apt-get install -y chromium` to run this test")
	}
	shotPath := os.Getenv(screenshotEnv)
	// The whole test, browser included, is bounded.
	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Second)
	defer cancel()

	c := testcluster.Start(t, 3)
	leader := c.WaitLeader()
	view := c.Followers()[0] // the page works from any node: open a follower's

	// A few keys in two databases for the keyspace table.
	seed := c.Client(view.Index, func(o *redis.Options) { o.DB = 2 })
	for i := 0; i < 5; i++ {
		if err := seed.Set(ctx, fmt.Sprintf("dash:db2:%d", i), i, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
	}

	// Load on the viewed node: pipelines of writes and reads, bounded in
	// count and time, with a rate that rises and falls every 10 seconds so
	// the charts have a shape.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stopLoad()
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		cl := c.Client(view.Index)
		start := time.Now()
		const maxCommands = 3_000_000
		for sent := 0; sent < maxCommands && loadCtx.Err() == nil; {
			n := 5 + int(time.Since(start)/time.Second%10)*6
			pipe := cl.Pipeline()
			for i := 0; i < n; i++ {
				k := fmt.Sprintf("dash:%d", (sent+i)%1000)
				if i%3 == 2 {
					pipe.Get(loadCtx, k)
				} else {
					pipe.Set(loadCtx, k, sent+i, 0)
				}
			}
			if _, err := pipe.Exec(loadCtx); err != nil && !errors.Is(err, redis.Nil) && loadCtx.Err() == nil {
				t.Errorf("load: %v", err)
				return
			}
			sent += n
		}
	}()

	// Headless Chromium, its own profile directory, no sandbox as root.
	profile := t.TempDir()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1360, 1000),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer func() {
		// Close the browser gracefully, then make sure it is gone.
		closeCtx, cancelClose := context.WithTimeout(bctx, 10*time.Second)
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			t.Logf("closing the browser: %v", err)
		}
		cancelClose()
		cancelBrowser()
		cancelAlloc() // waits for the process and removes what it allocated
		checkNoBrowserLeft(t, profile)
	}()

	// Page errors fail the test.
	var pageErrs struct {
		sync.Mutex
		list []string
	}
	if err := chromedp.Listen(bctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = "exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError {
				msg = "console.error"
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
			}
		}
		if msg != "" {
			pageErrs.Lock()
			pageErrs.list = append(pageErrs.list, msg)
			pageErrs.Unlock()
		}
	}); err != nil {
		t.Fatalf("starting Chromium (%s): %v", browser, err)
	}

	url := "http://" + view.HTTPAddr + "/"
	if err := chromedp.Do(bctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("loading %s: %v", url, err)
	}
	st, err := chromedp.Run(bctx, chromedp.Poll[dashboardState](dashboardLive,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		html, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('main') ? document.querySelector('main').innerText : document.documentElement.outerHTML`))
		t.Fatalf("the dashboard of %s did not show 3 members and a non-zero ops/s: %v\npage:\n%s", view.ID, err, html)
	}
	t.Logf("dashboard of %s: %+v", view.ID, st)
	slices.Sort(st.Members)
	if want := []string{"n1", "n2", "n3"}; !slices.Equal(st.Members, want) {
		t.Errorf("members %q, want %q", st.Members, want)
	}
	if st.Leader != leader.ID || st.Role != "follower" || st.Status != "live" || st.Term == "" || st.Term == "–" {
		t.Errorf("leader %q (want %s), role %q (want follower), status %q, term %q", st.Leader, leader.ID, st.Role, st.Status, st.Term)
	}
	if st.OpsText == "" || st.OpsText == "0" || st.OpsText == "…" {
		t.Errorf("ops/s shown as %q (value %v)", st.OpsText, st.Ops)
	}
	if st.DBs != 2 {
		t.Errorf("%d databases in the keyspace table, want 2 (db0, db2)", st.DBs)
	}

	// The screenshot: for the docs, after 30 s of history so the charts
	// have a shape; otherwise right away.
	if shotPath != "" {
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`Number(document.getElementById('chart-ops').dataset.samples) >= 30`,
			chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second))); err != nil {
			t.Fatalf("waiting for 30 s of chart history: %v", err)
		}
		if !filepath.IsAbs(shotPath) {
			shotPath = filepath.Join(repoRoot(t), shotPath)
		}
	} else {
		shotPath = filepath.Join(t.TempDir(), "dashboard.png")
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("the screenshot is not a PNG (%d bytes)", len(png))
	}
	if err := os.WriteFile(shotPath, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot (%d bytes): %s", len(png), shotPath)

	pageErrs.Lock()
	defer pageErrs.Unlock()
	for _, e := range pageErrs.list {
		t.Errorf("the page reported an error: %s", e)
	}
}

// repoRoot is the directory holding go.mod, above the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// checkNoBrowserLeft fails the test when a process started with the
// profile directory is still running a few seconds after the browser was
// closed (Chromium's helper processes exit when their parent does).
func checkNoBrowserLeft(t *testing.T, profile string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := processesWith(profile)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Chromium processes left running: %q", left)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// processesWith lists the pids of processes whose command line mentions s
// (Linux /proc; nothing elsewhere).
func processesWith(s string) []string {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), s) {
			out = append(out, e.Name())
		}
	}
	return out
}
