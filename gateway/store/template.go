package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TemplateRow is one stored template version. Body is the template's JSON as
// the templates package defines it; the store does not interpret it.
type TemplateRow struct {
	Name      string
	Version   int
	Body      string
	CreatedBy string
	CreatedAt time.Time
}

// InsertTemplateVersion stores body as the next version of name and returns
// that version number.
func (q queries) InsertTemplateVersion(ctx context.Context, name, body, createdBy string,
	at time.Time,
) (int, error) {
	var version int
	err := q.ex.queryRow(ctx, q.sql("InsertTemplateVersion"), name, body, createdBy, at.UTC()).
		Scan(&version)
	if err != nil {
		return 0, fmt.Errorf("insert template: %w", err)
	}
	return version, nil
}

// GetTemplate loads version of name, or its latest version when version is 0.
func (q queries) GetTemplate(ctx context.Context, name string, version int) (*TemplateRow, error) {
	var s scanner
	if version == 0 {
		s = q.ex.queryRow(ctx, q.sql("GetLatestTemplate"), name)
	} else {
		s = q.ex.queryRow(ctx, q.sql("GetTemplateVersion"), name, version)
	}
	var t TemplateRow
	if err := s.Scan(&t.Name, &t.Version, &t.Body, &t.CreatedBy, &t.CreatedAt); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get template: %w", err)
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return &t, nil
}

// TemplateSummary names a template and its latest version.
type TemplateSummary struct {
	Name          string
	LatestVersion int
	UpdatedAt     time.Time
}

// ListTemplates returns every template name with its latest version.
func (q queries) ListTemplates(ctx context.Context) ([]TemplateSummary, error) {
	rs, err := q.ex.query(ctx, q.sql("ListTemplates"))
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	defer rs.Close()
	var out []TemplateSummary
	for rs.Next() {
		var s TemplateSummary
		var updated any
		if err := rs.Scan(&s.Name, &s.LatestVersion, &updated); err != nil {
			return nil, fmt.Errorf("list templates: %w", err)
		}
		s.UpdatedAt = asTime(updated)
		out = append(out, s)
	}
	return out, rs.Err()
}

// asTime reads an aggregate over a timestamp column, which SQLite returns
// as text because MAX() loses the column's declared type.
func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t.UTC()
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano,
			"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
			if parsed, err := time.Parse(layout, t); err == nil {
				return parsed.UTC()
			}
		}
	}
	return time.Time{}
}
