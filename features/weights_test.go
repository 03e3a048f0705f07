package features

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindWeightsDownload(t *testing.T) {
	t.Setenv(WeightsEnv, "")
	const name = "test-weights.bin"
	content := []byte("not really a model, but hashed like one")
	old := KnownWeights[name]
	KnownWeights[name] = "a0a1f3d2f6a7f7b0b3b7d8f0d4b67b0d8d8c5ec2c4bb0fbd4e7e4d1c3f2e6f6a" // wrong on purpose first
	defer func() {
		if old == "" {
			delete(KnownWeights, name)
		} else {
			KnownWeights[name] = old
		}
	}()
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path != "/"+name {
			http.NotFound(w, r)
			return
		}
		w.Write(content)
	}))
	defer srv.Close()
	cache := t.TempDir()
	var progress bytes.Buffer
	opt := Options{BaseURL: srv.URL, CacheDir: cache, Progress: &progress}

	// A hash mismatch is an error, and nothing is left in the cache.
	if _, err := FindWeights(name, opt); err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), filepath.Join(cache, name)) {
		t.Fatalf("want SHA-256 error naming the cache path, got %v", err)
	}
	if ents, _ := os.ReadDir(cache); len(ents) != 0 {
		t.Fatalf("cache holds %v after a failed download", ents)
	}

	tmp := filepath.Join(t.TempDir(), "w")
	os.WriteFile(tmp, content, 0o644)
	sum, _ := FileSHA256(tmp)
	KnownWeights[name] = sum
	p, err := FindWeights(name, opt)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, content) || p != filepath.Join(cache, name) {
		t.Fatalf("downloaded to %s: %q", p, b)
	}
	if progress.Len() == 0 {
		t.Error("no progress output")
	}
	// Second lookup is served from the cache.
	n := hits
	if _, err := FindWeights(name, opt); err != nil || hits != n {
		t.Fatalf("second lookup: err %v, %d new requests", err, hits-n)
	}
	// Offline with an empty cache: the error says where to put the file.
	opt.CacheDir = t.TempDir()
	opt.Offline = true
	if _, err := FindWeights(name, opt); err == nil || !strings.Contains(err.Error(), filepath.Join(opt.CacheDir, name)) {
		t.Fatalf("offline error %v", err)
	}
	// A server error is reported with the same hint.
	opt.Offline = false
	if _, err := FindWeights("missing", Options{BaseURL: srv.URL, CacheDir: opt.CacheDir}); err == nil {
		t.Fatal("unknown weights accepted")
	}
	// Explicit file and environment folder win over the cache.
	if p, err := FindWeights(name, Options{Weights: tmp}); err != nil || p != tmp {
		t.Fatalf("explicit: %s %v", p, err)
	}
	if _, err := FindWeights(name, Options{Weights: tmp + ".nope"}); err == nil {
		t.Fatal("missing explicit file accepted")
	}
	t.Setenv(WeightsEnv, filepath.Dir(tmp))
	if p, err := FindWeights("w", Options{}); err != nil || p != tmp {
		t.Fatalf("env: %s %v", p, err)
	}
}
