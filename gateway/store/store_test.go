package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
)

func TestMigrateUpDownUp(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			databaseURL, dataDir := storetest.Location(t, d)
			db, err := store.Open(ctx, databaseURL, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()

			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Fatalf("CheckSchema on empty database = %v, want ErrSchemaBehind", err)
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatalf("CheckSchema after up: %v", err)
			}
			again, err := db.MigrateUp(ctx)
			if err != nil || len(again) != 0 {
				t.Fatalf("second MigrateUp applied %d, err %v; want nothing", len(again), err)
			}

			down, err := db.MigrateDown(ctx, 1, false)
			if err != nil || len(down) != 1 {
				t.Fatalf("MigrateDown one step: %d reverted, err %v", len(down), err)
			}
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Fatalf("CheckSchema after one down = %v, want ErrSchemaBehind", err)
			}
			if _, err := db.MigrateDown(ctx, 0, true); err != nil {
				t.Fatalf("MigrateDown all: %v", err)
			}
			status, err := db.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range status {
				if s.Applied {
					t.Errorf("%s %d still applied after down --all", s.Line, s.Version)
				}
			}
			if _, err := db.MigrateUp(ctx); err != nil {
				t.Fatalf("MigrateUp after full down: %v", err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestTemplateVersions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		for want := 1; want <= 3; want++ {
			v, err := db.InsertTemplateVersion(
				ctx,
				"order-shipped",
				`{"v":`+string(rune('0'+want))+`}`,
				"key1",
				now,
			)
			if err != nil {
				t.Fatal(err)
			}
			if v != want {
				t.Fatalf("version = %d, want %d", v, want)
			}
		}
		latest, err := db.GetTemplate(ctx, "order-shipped", 0)
		if err != nil || latest.Version != 3 || latest.Body != `{"v":3}` {
			t.Fatalf("latest = %+v, %v", latest, err)
		}
		v2, err := db.GetTemplate(ctx, "order-shipped", 2)
		if err != nil || v2.Body != `{"v":2}` {
			t.Fatalf("v2 = %+v, %v", v2, err)
		}
		if _, err := db.GetTemplate(ctx, "nope", 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("missing template err = %v", err)
		}
	})
}

func TestMessageIdempotencyAndAttempts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().Truncate(time.Microsecond)
		m := &store.Message{
			ID: "m1", APIKeyID: "k1", IdempotencyKey: "idem-1", RequestHash: []byte{1, 2},
			TemplateName: "t", TemplateVersion: 1, Category: "transactional",
			Recipient: "pat@example.test", Data: "{}", Headers: "{}", RFCMessageID: "x@example.test",
			Status: store.StatusQueued, CreatedAt: now,
		}
		if err := db.InsertMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		dup := *m
		dup.ID = "m2"
		if err := db.InsertMessage(ctx, &dup); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate idempotency key: err = %v, want ErrConflict", err)
		}
		other := dup
		other.APIKeyID = "k2"
		if err := db.InsertMessage(ctx, &other); err != nil {
			t.Fatalf("same idempotency key under another API key: %v", err)
		}
		got, err := db.GetMessageByIdempotencyKey(ctx, "k1", "idem-1")
		if err != nil || got.ID != "m1" {
			t.Fatalf("by key = %+v, %v", got, err)
		}

		err = db.InTx(ctx, func(tx *store.Tx) error {
			return tx.RecordAttempt(ctx, "m1", store.Attempt{
				Status: store.StatusDeferred, ReplyCode: 451, EnhancedCode: "4.3.0",
				Error: "smtp data: 451 4.3.0", At: now,
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.RecordAttempt(ctx, "m1", store.Attempt{Status: store.StatusSent, ReplyCode: 250, At: now}); err != nil {
			t.Fatal(err)
		}
		got, err = db.GetMessage(ctx, "m1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != store.StatusSent || got.Attempts != 2 || got.LastReplyCode != 250 ||
			got.SentAt == nil || !got.SentAt.Equal(now) || !got.CreatedAt.Equal(now) {
			t.Fatalf("after attempts: %+v", got)
		}
		if err := db.RecordAttempt(ctx, "nope", store.Attempt{Status: store.StatusSent, At: now}); !errors.Is(
			err,
			store.ErrNotFound,
		) {
			t.Fatalf("attempt on missing message: %v", err)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		k := &store.APIKey{ID: "abc", Name: "shop", Roles: []string{"sender", "admin"},
			SecretHash: []byte{9, 9}, CreatedAt: time.Now()}
		if err := db.InsertAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetAPIKey(ctx, "abc")
		if err != nil || len(got.Roles) != 2 || got.RevokedAt != nil {
			t.Fatalf("got %+v, %v", got, err)
		}
		if err := db.RevokeAPIKey(ctx, "abc", time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := db.RevokeAPIKey(ctx, "abc", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second revoke: %v", err)
		}
		all, err := db.ListAPIKeys(ctx)
		if err != nil || len(all) != 1 || all[0].RevokedAt == nil {
			t.Fatalf("list: %+v %v", all, err)
		}
	})
}

func TestOpenRejectsOtherURLs(t *testing.T) {
	t.Parallel()
	_, err := store.Open(context.Background(), "mysql://user:hunter2@host/db", t.TempDir())
	if err == nil {
		t.Fatal("want error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error echoes the password: %v", err)
	}
}

func TestRetentionPurgeLeavesNothingPastItsWindow(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		r := store.Retention{Messages: 30 * 24 * time.Hour, Records: 6 * 365 * 24 * time.Hour}
		for i, age := range []time.Duration{31 * 24 * time.Hour, 29 * 24 * time.Hour, time.Hour} {
			m := &store.Message{
				ID:              "m" + string(rune('0'+i)),
				APIKeyID:        "k",
				RequestHash:     []byte{1},
				TemplateName:    "t",
				TemplateVersion: 1,
				Category:        "transactional",
				Recipient:       "pat@example.test",
				Data:            "{}",
				Headers:         "{}",
				RFCMessageID:    "x",
				Status:          store.StatusSent,
				CreatedAt:       now.Add(-age),
			}
			if err := db.InsertMessage(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		for i, age := range []time.Duration{7 * 365 * 24 * time.Hour, 24 * time.Hour} {
			err := db.InsertConsentEvent(ctx, &store.ConsentEvent{ID: "c" + string(rune('0'+i)),
				Address: "pat@example.test", Purpose: "marketing", Action: "grant", Source: "api",
				Actor: "k", CreatedAt: now.Add(-age)})
			if err != nil {
				t.Fatal(err)
			}
		}
		counts, err := db.PurgeRetained(ctx, r, now)
		if err != nil {
			t.Fatal(err)
		}
		if counts["messages"] != 1 || counts["consent events"] != 1 {
			t.Fatalf("purged %v", counts)
		}
		status, err := db.RetentionStatus(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		windows := map[string]time.Duration{
			"message metadata": r.Messages,
			"consent history":  r.Records,
		}
		for _, k := range status {
			if w, ok := windows[k.Kind]; ok {
				if k.Oldest == nil || now.Sub(*k.Oldest) > w {
					t.Fatalf("%s: oldest %v is past its window", k.Kind, k.Oldest)
				}
			}
		}
	})
}

// Case BL-17: a replica that schedules different periodic jobs is noticed.
func TestCaseBL17ReplicasWithDifferentPeriodicJobs(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		if d, err := db.AnnounceReplica(ctx, "a", "purge@1m", now, time.Minute); err != nil ||
			len(d) != 0 {
			t.Fatalf("first replica: %v %v", d, err)
		}
		if d, err := db.AnnounceReplica(ctx, "b", "purge@1m", now, time.Minute); err != nil ||
			len(d) != 0 {
			t.Fatalf("same config: %v %v", d, err)
		}
		d, err := db.AnnounceReplica(ctx, "c", "purge@5m", now, time.Minute)
		if err != nil || len(d) != 1 || d[0] != "purge@1m" {
			t.Fatalf("different config not noticed: %v %v", d, err)
		}
		if err := db.RetireReplica(ctx, "c", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if d, err := db.AnnounceReplica(ctx, "a", "purge@1m", now.Add(2*time.Minute), time.Minute); err != nil ||
			len(d) != 0 {
			t.Fatalf("stale and retired replicas still counted: %v %v", d, err)
		}
	})
}
