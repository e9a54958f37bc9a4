package phi

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// Quality bars for the labelled corpus in testdata.
const (
	minRecall       = 0.98
	maxFalsePosRate = 0.03
	minCorpusLines  = 300
)

func readCorpus(t *testing.T, name string) []string {
	t.Helper()

	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			lines = append(lines, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) < minCorpusLines {
		t.Fatalf("%s has %d phrases, want at least %d", name, len(lines), minCorpusLines)
	}
	return lines
}

// TestCorpus measures recall on phrases that carry health information and
// the false-positive rate on ordinary commerce phrases.
func TestCorpus(t *testing.T) {
	t.Parallel()

	l := Default()
	phi := readCorpus(t, "phi.txt")
	benign := readCorpus(t, "benign.txt")

	found := 0
	for _, s := range phi {
		if _, ok := l.ScanFirst(s); ok {
			found++
		} else {
			t.Logf("missed: %s", s)
		}
	}
	flagged := 0
	for _, s := range benign {
		if f, ok := l.ScanFirst(s); ok {
			flagged++
			t.Logf("false positive (%s): %s", f.Rule, s)
		}
	}

	recall := float64(found) / float64(len(phi))
	fpRate := float64(flagged) / float64(len(benign))
	t.Logf("lexicon lines: %d", l.Terms())
	t.Logf("recall: %d/%d = %.1f%%", found, len(phi), 100*recall)
	t.Logf("false positives: %d/%d = %.1f%%", flagged, len(benign), 100*fpRate)
	if recall < minRecall {
		t.Errorf("recall %.3f, want at least %.2f", recall, minRecall)
	}
	if fpRate > maxFalsePosRate {
		t.Errorf("false-positive rate %.3f, want at most %.2f", fpRate, maxFalsePosRate)
	}
}
