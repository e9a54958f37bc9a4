package templates

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
)

// exampleFiles holds the example templates offered in dev mode. They carry
// no health information.
//
//go:embed examples/*.json
var exampleFiles embed.FS

// Examples returns the example templates (order-shipped, password-reset and
// appointment-reminder), each validated, sorted by file name. Every call
// returns fresh values the caller may change.
func Examples() ([]*Template, error) {
	entries, err := fs.ReadDir(exampleFiles, "examples")
	if err != nil {
		return nil, fmt.Errorf("read examples: %w", err)
	}

	var out []*Template
	for _, e := range entries {
		t, err := readExample(path.Join("examples", e.Name()))
		if err != nil {
			return nil, fmt.Errorf("example %s: %w", e.Name(), err)
		}
		out = append(out, t)
	}
	return out, nil
}

func readExample(name string) (*Template, error) {
	b, err := exampleFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}

	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return &t, nil
}
