package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/outbound"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
	"github.com/sealpost/sealpost/templates"
)

func benchTemplate() *templates.Template {
	return &templates.Template{
		Name:    "order-shipped",
		Subject: "Your {{.shop_name}} order {{.order_number}} has shipped",
		Text: "Hi {{.first_name}},\n\nGood news: order {{.order_number}} is on its way.\n" +
			"Track it at {{.tracking_url}}\n\nThank you for shopping with {{.shop_name}}.\n",
		HTML: "<p>Hi {{.first_name}},</p><p>Good news: order <strong>{{.order_number}}</strong> " +
			"is on its way.</p><p><a href=\"{{.tracking_url}}\">Track your parcel</a></p>" +
			"<p>Thank you for shopping with {{.shop_name}}.</p>",
		Variables: map[string]templates.Variable{
			"first_name":   {Type: templates.TypeString, Required: true},
			"order_number": {Type: templates.TypeString, Required: true},
			"shop_name":    {Type: templates.TypeString, Required: true},
			"tracking_url": {Type: templates.TypeURL, Required: true},
		},
	}
}

// setupBuild returns an Outbound and a stored message ready to build.
func setupBuild(tb testing.TB, alg dkim.Algorithm) (*outbound.Outbound, *store.Message, *dkim.Key) {
	tb.Helper()
	db := storetest.New(tb, migrations.SQLite)
	cat := catalog.New(db)
	e, err := cat.Save(context.Background(), benchTemplate(), "bench")
	if err != nil {
		tb.Fatal(err)
	}
	key, err := dkim.Generate(alg, "shop.example.test", "s1")
	if err != nil {
		tb.Fatal(err)
	}
	signer, err := dkim.NewSigner(key)
	if err != nil {
		tb.Fatal(err)
	}
	from, err := address.ParseWithName("Acme Pharmacy", "noreply@shop.example.test")
	if err != nil {
		tb.Fatal(err)
	}
	o := outbound.New(cat, nil, signer, from, nil)
	m := &store.Message{
		ID: "m1", TemplateName: e.Template.Name, TemplateVersion: e.Template.Version,
		Recipient: "pat@example.test", RecipientName: "Pat Doe",
		Data: `{"first_name":"Pat","order_number":"A-1001","shop_name":"Acme Pharmacy",` +
			`"tracking_url":"https://track.example.test/A-1001"}`,
		Headers: "{}", RFCMessageID: "0123456789abcdef@shop.example.test", CreatedAt: time.Now(),
	}
	return o, m, key
}

// BenchmarkBuild measures one message's CPU path from stored row to signed
// bytes: template lookup (cached), render, sanitise, MIME, DKIM.
func BenchmarkBuild(b *testing.B) {
	for _, alg := range []dkim.Algorithm{dkim.RSA, dkim.Ed25519} {
		b.Run(string(alg), func(b *testing.B) {
			o, m, _ := setupBuild(b, alg)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := o.Build(ctx, m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
