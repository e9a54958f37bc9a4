// Package catalog loads templates from the store and keeps their compiled
// form in memory. A stored version never changes, so a compiled version is
// cached for good; the answer to "which version is latest" is cached for
// LatestTTL, and saving through this catalog refreshes it at once.
package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/templates"
)

// LatestTTL bounds how long another process's new template version can go
// unseen.
const LatestTTL = time.Second

// ErrNotFound means there is no template of that name (or version).
var ErrNotFound = errors.New("template not found")

// Entry is one compiled template version.
type Entry struct {
	Template *templates.Template
	Compiled *templates.Compiled
	SavedAt  time.Time
}

type key struct {
	name    string
	version int
}

type latest struct {
	version int
	expires time.Time
}

// Catalog is safe for concurrent use.
type Catalog struct {
	db       *store.DB
	mu       sync.Mutex
	versions map[key]*Entry
	latest   map[string]latest
}

// New returns a catalog reading from db.
func New(db *store.DB) *Catalog {
	return &Catalog{db: db, versions: map[key]*Entry{}, latest: map[string]latest{}}
}

// Save validates t and stores it as the next version of its name. A
// *templates.ValidationError comes back unchanged for the caller to report.
func (c *Catalog) Save(ctx context.Context, t *templates.Template, savedBy string) (*Entry, error) {
	t.Version = 0
	compiled, err := t.Compile()
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("save template: %w", err)
	}
	now := time.Now().UTC()
	var version int
	for range 3 { // two concurrent saves of one name collide; retry
		version, err = c.db.InsertTemplateVersion(ctx, t.Name, string(body), savedBy, now)
		if !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("save template: %w", err)
	}
	t.Version = version
	e := &Entry{Template: t, Compiled: compiled, SavedAt: now}

	c.mu.Lock()
	c.versions[key{t.Name, version}] = e
	c.latest[t.Name] = latest{version: version, expires: time.Now().Add(LatestTTL)}
	c.mu.Unlock()
	return e, nil
}

// Get returns version of name, or its latest version when version is 0.
func (c *Catalog) Get(ctx context.Context, name string, version int) (*Entry, error) {
	if version == 0 {
		c.mu.Lock()
		l, ok := c.latest[name]
		c.mu.Unlock()
		if ok && time.Now().Before(l.expires) {
			version = l.version
		}
	}
	if version != 0 {
		c.mu.Lock()
		e, ok := c.versions[key{name, version}]
		c.mu.Unlock()
		if ok {
			return e, nil
		}
	}

	row, err := c.db.GetTemplate(ctx, name, version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var t templates.Template
	if err := json.Unmarshal([]byte(row.Body), &t); err != nil {
		return nil, fmt.Errorf("load template %s v%d: %w", row.Name, row.Version, err)
	}
	t.Name, t.Version = row.Name, row.Version
	compiled, err := t.Compile()
	if err != nil {
		return nil, fmt.Errorf("compile stored template %s v%d: %w", row.Name, row.Version, err)
	}
	e := &Entry{Template: &t, Compiled: compiled, SavedAt: row.CreatedAt}

	c.mu.Lock()
	c.versions[key{row.Name, row.Version}] = e
	if version == 0 {
		c.latest[name] = latest{version: row.Version, expires: time.Now().Add(LatestTTL)}
	}
	c.mu.Unlock()
	return e, nil
}
