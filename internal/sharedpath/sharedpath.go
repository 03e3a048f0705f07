// Package sharedpath finds the project's shared reference folder (data and weights)
// for tests and benchmarks.
//
// The folder is ADVGS_SHARED when that is set, else ../shared next to the module root
// (the directory holding go.mod). Tests call Require: when the folder or file is
// missing the test is skipped with a clear message, except under CI=true, where it
// fails, so that CI never passes by skipping.
package sharedpath

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the shared folder, or an error saying where it was looked for.
func Dir() (string, error) {
	if d := os.Getenv("ADVGS_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			return "", errors.New("ADVGS_SHARED=" + d + ": " + err.Error())
		}
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			if _, err := os.Stat(s); err != nil {
				return "", errors.New("shared folder not found at " + s + " (set ADVGS_SHARED)")
			}
			return s, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("no go.mod above " + wd + "; set ADVGS_SHARED")
		}
	}
}

// Require returns the path of rel inside the shared folder. When it is missing the
// test is skipped, or failed when the environment has CI=true.
func Require(tb testing.TB, rel string) string {
	tb.Helper()
	d, err := Dir()
	if err == nil {
		p := filepath.Join(d, rel)
		if _, err = os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("shared reference file %s is missing under CI: %v", rel, err)
	}
	tb.Skipf("shared reference file %s not available: %v", rel, err)
	return ""
}
