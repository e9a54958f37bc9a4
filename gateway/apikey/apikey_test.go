package apikey_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
)

func TestCreateAuthenticateRevoke(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		text, k, err := apikey.Create(ctx, db, "shop backend", []apikey.Role{apikey.Sender})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(text, "sp_"+k.ID+"_") {
			t.Fatalf("key text %q does not carry its id", text)
		}
		if strings.Contains(string(k.SecretHash), text[len("sp_")+13:]) {
			t.Fatal("secret stored in clear")
		}
		auth := apikey.NewAuthenticator(db)
		p, err := auth.Authenticate(ctx, text)
		if err != nil || !p.Has(apikey.Sender) || p.Has(apikey.Admin) {
			t.Fatalf("principal = %+v, %v", p, err)
		}

		wrong := text[:len(text)-2] + "AA"
		if wrong == text {
			wrong = text[:len(text)-2] + "BB"
		}
		if _, err := auth.Authenticate(ctx, wrong); !errors.Is(err, apikey.ErrInvalid) {
			t.Fatalf("wrong secret: %v", err)
		}
		for _, bad := range []string{"", "sp_", "Bearer x", "sp_zzzzzzzzzzzz_" + strings.Repeat("a", 43)} {
			if _, err := auth.Authenticate(ctx, bad); err == nil {
				t.Fatalf("accepted %q", bad)
			}
		}

		if err := db.RevokeAPIKey(ctx, k.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		auth.Forget(k.ID)
		if _, err := auth.Authenticate(ctx, text); !errors.Is(err, apikey.ErrInvalid) {
			t.Fatalf("revoked key: %v", err)
		}
	})
}

func TestParseRoles(t *testing.T) {
	t.Parallel()
	got, err := apikey.ParseRoles("sender, admin,sender")
	if err != nil || len(got) != 2 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := apikey.ParseRoles("root"); err == nil {
		t.Fatal("unknown role accepted")
	}
}
