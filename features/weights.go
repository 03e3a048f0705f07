package features

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
)

// DefaultBaseURL is the public home of the shared MobileNet weights; a file is
// downloaded from DefaultBaseURL + "/" + name.
const DefaultBaseURL = "https://raw.githubusercontent.com/google-coral/test_data/master"

// WeightsEnv names the environment variable that points at a folder holding
// weights files (or at one weights file).
const WeightsEnv = "ADVGS_WEIGHTS"

// KnownWeights maps the weights files advgs can download to their SHA-256.
var KnownWeights = map[string]string{
	"mobilenet_v2_1.0_224_quant.tflite":                     "7aad0c74c5e3c06e5eb3c827e13304fdd68a83da6087d92ee169c24ff9fd4776",
	"mobilenet_v1_1.0_224_quant_embedding_extractor.tflite": "f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319",
	"mobilenet_v1_0.25_128_quant.tflite":                    "cb273c23ee76374b05b9583177e28aa19744858a7679c56a250e83d0333da785",
}

// CacheDir returns the weights cache folder: opt.CacheDir, or
// os.UserCacheDir()/advgs.
func CacheDir(opt Options) (string, error) {
	if opt.CacheDir != "" {
		return opt.CacheDir, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("features: no user cache folder (%v); pass the weights file explicitly or set %s", err, WeightsEnv)
	}
	return filepath.Join(d, "advgs"), nil
}

// FindWeights returns the path of the weights file name, looked up in order:
//
//  1. opt.Weights, an explicit file (the --weights flag), which must exist;
//  2. $ADVGS_WEIGHTS, a folder holding name (or that file itself);
//  3. the cache folder (CacheDir), where a file whose SHA-256 matches
//     KnownWeights is used;
//  4. a download from opt.BaseURL (DefaultBaseURL) into the cache folder, with a
//     progress bar on opt.Progress and a SHA-256 check, written atomically.
//
// When the file cannot be downloaded the error says where to put it by hand.
func FindWeights(name string, opt Options) (string, error) {
	if opt.Weights != "" {
		if _, err := os.Stat(opt.Weights); err != nil {
			return "", fmt.Errorf("features: weights file: %w", err)
		}
		return opt.Weights, nil
	}
	if env := os.Getenv(WeightsEnv); env != "" {
		st, err := os.Stat(env)
		if err != nil {
			return "", fmt.Errorf("features: %s=%s: %w", WeightsEnv, env, err)
		}
		p := env
		if st.IsDir() {
			p = filepath.Join(env, name)
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("features: %s=%s does not hold %s: %w", WeightsEnv, env, name, err)
		}
		return p, nil
	}
	dir, err := CacheDir(opt)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, name)
	want := KnownWeights[name]
	if _, err := os.Stat(p); err == nil {
		got, err := FileSHA256(p)
		if err != nil {
			return "", err
		}
		if want == "" || got == want {
			return p, nil
		}
		// A corrupt or partial cache entry is replaced by a fresh download.
	}
	if want == "" {
		return "", fmt.Errorf("features: weights %s not found: pass the file with --weights or put it at %s", name, p)
	}
	base := opt.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	url := strings.TrimRight(base, "/") + "/" + name
	hint := fmt.Sprintf("download %s by hand and put it at %s (or pass --weights FILE, or set %s to its folder)", url, p, WeightsEnv)
	if opt.Offline {
		return "", fmt.Errorf("features: weights %s are not in the cache and downloads are off; %s", name, hint)
	}
	if err := download(url, p, want, opt.Progress); err != nil {
		return "", fmt.Errorf("features: %w; %s", err, hint)
	}
	return p, nil
}

// FileSHA256 returns the hex SHA-256 of a file.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("features: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("features: reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download fetches url into path through a temporary file in the same folder,
// checks the SHA-256 and renames it into place.
func download(url, path, wantSHA string, progress io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("creating the cache folder: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Get(url)
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("downloading %s: HTTP %s", url, resp.Status)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".part-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if progress == nil {
		progress = os.Stderr
	}
	bar := progressbar.NewOptions64(resp.ContentLength,
		progressbar.OptionSetWriter(progress),
		progressbar.OptionSetDescription("downloading "+filepath.Base(path)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(progress) }),
	)
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h, bar), resp.Body)
	_ = bar.Finish()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("downloading %s: %w", url, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != wantSHA {
		return fmt.Errorf("downloaded %s has SHA-256 %s, want %s", url, got, wantSHA)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return errors.Join(fmt.Errorf("installing %s", path), err)
	}
	return nil
}
