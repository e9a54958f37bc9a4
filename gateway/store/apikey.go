package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// APIKey is a stored API key. The secret itself is never stored; SecretHash
// is its SHA-256.
type APIKey struct {
	ID         string
	Name       string
	Roles      []string
	SecretHash []byte
	CreatedAt  time.Time
	RevokedAt  *time.Time
}

// LogValue logs the key id and name only.
func (k *APIKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("name", k.Name))
}

// InsertAPIKey stores a new key.
func (q queries) InsertAPIKey(ctx context.Context, k *APIKey) error {
	_, err := q.ex.exec(ctx, q.sql("InsertAPIKey"),
		k.ID, k.Name, strings.Join(k.Roles, ","), k.SecretHash, k.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// GetAPIKey loads a key by id; ErrNotFound when there is none.
func (q queries) GetAPIKey(ctx context.Context, id string) (*APIKey, error) {
	k, err := scanAPIKey(q.ex.queryRow(ctx, q.sql("GetAPIKey"), id))
	if err != nil {
		return nil, fmt.Errorf("get api key: %w", err)
	}
	return k, nil
}

// ListAPIKeys returns every key, revoked ones included, oldest first.
func (q queries) ListAPIKeys(ctx context.Context) ([]*APIKey, error) {
	rs, err := q.ex.query(ctx, q.sql("ListAPIKeys"))
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rs.Close()
	var out []*APIKey
	for rs.Next() {
		k, err := scanAPIKey(rs)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// RevokeAPIKey marks a key revoked; ErrNotFound when it does not exist or is
// already revoked.
func (q queries) RevokeAPIKey(ctx context.Context, id string, at time.Time) error {
	n, err := q.ex.exec(ctx, q.sql("RevokeAPIKey"), id, at.UTC())
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("revoke api key: %w", ErrNotFound)
	}
	return nil
}

func scanAPIKey(s scanner) (*APIKey, error) {
	var k APIKey
	var roles string
	var revoked sql.NullTime
	if err := s.Scan(&k.ID, &k.Name, &roles, &k.SecretHash, &k.CreatedAt, &revoked); err != nil {
		return nil, err
	}
	if roles != "" {
		k.Roles = strings.Split(roles, ",")
	}
	k.CreatedAt = k.CreatedAt.UTC()
	if revoked.Valid {
		t := revoked.Time.UTC()
		k.RevokedAt = &t
	}
	return &k, nil
}
