package main

// A headless-Chromium check of generated HTML reports, driven through the Chrome
// DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4,
// messages separated by NUL bytes), so that console errors, uncaught exceptions and
// failed resource loads are reported as structured events rather than scraped
// from logs.

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// findChromium returns the Chromium (or Chrome) binary, or "".
func findChromium() string {
	if p := os.Getenv("ADVGS_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// requireChromium skips the test when no Chromium is installed, except under
// CI=true where it fails (.ci/run installs Debian's chromium).
func requireChromium(t *testing.T) string {
	t.Helper()
	p := findChromium()
	if p == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (CI installs it: apt-get install chromium)")
		}
		t.Skip("chromium not installed (apt-get install chromium); skipping the browser check")
	}
	return p
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct{ Message string }
	SessionID string `json:"sessionId,omitempty"`
}

type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	w       io.WriteCloser
	msgs    chan cdpMsg
	events  []cdpMsg
	id      int
	session string
	stderr  strings.Builder
}

// startBrowser starts headless Chromium with a fresh profile and attaches to a new
// blank page whose viewport is w×h.
func startBrowser(t *testing.T, w, h int) *browser {
	bin := requireChromium(t)
	toR, toW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	fromR, fromW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, w: toW, msgs: make(chan cdpMsg, 256)}
	b.cmd = exec.Command(bin, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
		"--remote-debugging-pipe", "--user-data-dir="+t.TempDir(), "--no-first-run", "--no-default-browser-check",
		"--disable-extensions", "--disable-background-networking", "--hide-scrollbars", "--mute-audio", "about:blank")
	b.cmd.ExtraFiles = []*os.File{toR, fromW}
	b.cmd.Stderr = &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	toR.Close()
	fromW.Close()
	go func() {
		r := bufio.NewReader(fromR)
		for {
			line, err := r.ReadBytes(0)
			if err != nil {
				close(b.msgs)
				return
			}
			var m cdpMsg
			if json.Unmarshal(line[:len(line)-1], &m) == nil {
				b.msgs <- m
			}
		}
	}()
	t.Cleanup(b.close)
	var tgt struct{ TargetID string }
	b.call("Target.createTarget", map[string]any{"url": "about:blank"}, &tgt, false)
	var att struct{ SessionID string }
	b.call("Target.attachToTarget", map[string]any{"targetId": tgt.TargetID, "flatten": true}, &att, false)
	b.session = att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Page.enable"} {
		b.call(m, nil, nil, true)
	}
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil, true)
	return b
}

func (b *browser) close() {
	if b.cmd.Process == nil {
		return
	}
	b.id++
	msg, _ := json.Marshal(map[string]any{"id": b.id, "method": "Browser.close"})
	b.w.Write(append(msg, 0))
	done := make(chan struct{})
	go func() { b.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		b.cmd.Process.Kill()
		<-done
	}
	b.w.Close()
}

// next waits for the next message or fails after the timeout.
func (b *browser) next(timeout time.Duration, what string) cdpMsg {
	b.t.Helper()
	select {
	case m, ok := <-b.msgs:
		if !ok {
			b.t.Fatalf("chromium exited while waiting for %s; stderr:\n%s", what, tail(b.stderr.String(), 3000))
		}
		return m
	case <-time.After(timeout):
		b.t.Fatalf("chromium: no %s within %s; stderr:\n%s", what, timeout, tail(b.stderr.String(), 3000))
	}
	return cdpMsg{}
}

// call sends a command (to the page's session when inSession) and decodes its
// result into out; events that arrive meanwhile are kept.
func (b *browser) call(method string, params any, out any, inSession bool) {
	b.t.Helper()
	b.id++
	req := map[string]any{"id": b.id, "method": method}
	if params != nil {
		req["params"] = params
	}
	if inSession {
		req["sessionId"] = b.session
	}
	msg, _ := json.Marshal(req)
	if _, err := b.w.Write(append(msg, 0)); err != nil {
		b.t.Fatalf("chromium %s: %v", method, err)
	}
	for {
		m := b.next(60*time.Second, method)
		if m.ID != b.id {
			if m.Method != "" {
				b.events = append(b.events, m)
			}
			continue
		}
		if m.Error != nil {
			b.t.Fatalf("chromium %s: %s", method, m.Error.Message)
		}
		if out != nil {
			if err := json.Unmarshal(m.Result, out); err != nil {
				b.t.Fatalf("chromium %s: %v in %s", method, err, m.Result)
			}
		}
		return
	}
}

// open navigates to a file and waits for its load event.
func (b *browser) open(path string) {
	b.t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		b.t.Fatal(err)
	}
	b.call("Page.navigate", map[string]any{"url": "file://" + abs}, nil, true)
	for _, e := range b.events {
		if e.Method == "Page.loadEventFired" {
			return
		}
	}
	for {
		m := b.next(60*time.Second, "load event of "+path)
		if m.Method != "" {
			b.events = append(b.events, m)
		}
		if m.Method == "Page.loadEventFired" {
			return
		}
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) that returns a JSON
// string, and decodes that string into out.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	var r struct {
		Result struct {
			Value any
		}
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	b.call("Runtime.evaluate", map[string]any{"expression": expr, "awaitPromise": true, "returnByValue": true}, &r, true)
	if r.ExceptionDetails != nil {
		b.t.Fatalf("evaluating %q: %s %s", expr, r.ExceptionDetails.Text, r.ExceptionDetails.Exception.Description)
	}
	s, ok := r.Result.Value.(string)
	if !ok {
		b.t.Fatalf("evaluating %q: got %v, want a JSON string", expr, r.Result.Value)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		b.t.Fatalf("evaluating %q: %v", expr, err)
	}
}

// problems returns the console errors and warnings, uncaught exceptions and
// failed loads (Log entries of level error) seen so far.
func (b *browser) problems() []string {
	var out []string
	for _, e := range b.events {
		switch e.Method {
		case "Runtime.exceptionThrown":
			var p struct {
				ExceptionDetails struct {
					Text      string
					Exception struct{ Description string }
				}
			}
			json.Unmarshal(e.Params, &p)
			out = append(out, "exception: "+p.ExceptionDetails.Text+" "+p.ExceptionDetails.Exception.Description)
		case "Runtime.consoleAPICalled":
			var p struct {
				Type string
				Args []struct{ Value any }
			}
			json.Unmarshal(e.Params, &p)
			if p.Type == "error" || p.Type == "warning" || p.Type == "assert" {
				out = append(out, fmt.Sprintf("console.%s: %v", p.Type, p.Args))
			}
		case "Log.entryAdded":
			var p struct {
				Entry struct{ Level, Source, Text, URL string }
			}
			json.Unmarshal(e.Params, &p)
			if p.Entry.Level == "error" || p.Entry.Level == "warning" {
				out = append(out, fmt.Sprintf("log %s (%s): %s %s", p.Entry.Level, p.Entry.Source, p.Entry.Text, p.Entry.URL))
			}
		}
	}
	return out
}

// loadAllImages makes every <img> load now (lazy ones included), waits for each to
// decode, and returns [src, naturalWidth, naturalHeight, error] per image.
func (b *browser) loadAllImages() [][]any {
	var res [][]any
	b.eval(`(async () => {
  const out = [];
  for (const img of Array.from(document.images)) {
    img.loading = "eager";
    try { await img.decode(); out.push([img.getAttribute("src"), img.naturalWidth, img.naturalHeight, ""]); }
    catch (e) { out.push([img.getAttribute("src"), 0, 0, String(e)]); }
  }
  return JSON.stringify(out);
})()`, &res)
	return res
}

// screenshot saves a PNG of the viewport to path, or of the whole page when full
// (the viewport is made as tall as the page first, so that lazy images and
// content-visibility sections are painted as a reader scrolling would see them).
func (b *browser) screenshot(path string, full bool) {
	b.t.Helper()
	if full {
		var size []float64
		b.eval(`JSON.stringify([document.documentElement.scrollWidth, document.documentElement.scrollHeight])`, &size)
		b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": int(size[0]), "height": int(size[1]), "deviceScaleFactor": 1, "mobile": false}, nil, true)
		b.loadAllImages()
	}
	var r struct{ Data string }
	b.call("Page.captureScreenshot", map[string]any{"format": "png"}, &r, true)
	png, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// TestBrowserCheckCatchesProblems makes sure the browser check would fail a bad
// page: console errors, exceptions and missing or undecodable images are seen.
func TestBrowserCheckCatchesProblems(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not a png"), 0o644)
	page := filepath.Join(dir, "bad.html")
	os.WriteFile(page, []byte(`<!DOCTYPE html><html><head><title>bad</title></head><body>
<img src="missing.png"><img src="broken.png" loading="lazy">
<script>console.error("boom"); undefinedFunction();</script></body></html>`), 0o644)
	br := startBrowser(t, 800, 600)
	br.open(page)
	for _, im := range br.loadAllImages() {
		if w, _ := im[1].(float64); w > 0 {
			t.Errorf("image %v reported as decoded", im[0])
		}
	}
	p := strings.Join(br.problems(), "\n")
	for _, want := range []string{"console.error", "undefinedFunction", "missing.png"} {
		if !strings.Contains(p, want) {
			t.Errorf("problems do not mention %s:\n%s", want, p)
		}
	}
}
