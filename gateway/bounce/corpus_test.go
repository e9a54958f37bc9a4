package bounce_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/bounce"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// golden is what a corpus sample must parse to.
type golden struct {
	Error   string          `json:"error,omitempty"`
	Reports []bounce.Report `json:"reports"`
}

// errorName maps parser errors to the stable names kept in golden files.
func errorName(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, bounce.ErrNotReport):
		return "not_report"
	case errors.Is(err, bounce.ErrMalformed):
		return "malformed"
	case errors.Is(err, bounce.ErrWrongReportType):
		return "wrong_report_type"
	case errors.Is(err, bounce.ErrTooLarge):
		return "too_large"
	}
	return "other: " + err.Error()
}

func corpus(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 13 {
		t.Fatalf("corpus has %d samples, want at least 13", len(files))
	}
	return files
}

func TestCorpusGolden(t *testing.T) {
	t.Parallel()
	for _, file := range corpus(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".eml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			reports, err := bounce.Parse(bytes.NewReader(raw))
			got := golden{Error: errorName(err), Reports: reports}
			if got.Reports == nil {
				got.Reports = []bounce.Report{}
			}
			gotJSON, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			gotJSON = append(gotJSON, '\n')

			path := strings.TrimSuffix(file, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(path, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create): %v", err)
			}
			if !bytes.Equal(gotJSON, want) {
				t.Errorf("Parse mismatch\n got: %s\nwant: %s", gotJSON, want)
			}
		})
	}
}

// TestCorpusTypedParsers checks that ParseDSN and ParseARF agree with Parse
// on every sample of their kind and refuse the other kind.
func TestCorpusTypedParsers(t *testing.T) {
	t.Parallel()
	for _, file := range corpus(t) {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			all, allErr := bounce.Parse(bytes.NewReader(raw))
			switch {
			case strings.HasPrefix(name, "dsn-"):
				got, err := bounce.ParseDSN(bytes.NewReader(raw))
				if errorName(err) != errorName(allErr) || !equalReports(got, all) {
					t.Fatalf("ParseDSN = %+v, %v; Parse = %+v, %v", got, err, all, allErr)
				}
				if _, err := bounce.ParseARF(bytes.NewReader(raw)); err == nil {
					t.Fatal("ParseARF accepted a DSN")
				}
			case strings.HasPrefix(name, "arf-"):
				got, err := bounce.ParseARF(bytes.NewReader(raw))
				if err != nil || allErr != nil || len(all) != 1 || *got != all[0] {
					t.Fatalf("ParseARF = %+v, %v; Parse = %+v, %v", got, err, all, allErr)
				}
				if _, err := bounce.ParseDSN(bytes.NewReader(raw)); !errors.Is(err,
					bounce.ErrWrongReportType) {
					t.Fatalf("ParseDSN on ARF: err = %v, want ErrWrongReportType", err)
				}
			}
		})
	}
}

func equalReports(a, b []bounce.Report) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
