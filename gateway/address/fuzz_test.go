package address_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sealpost/sealpost/gateway/address"
)

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"pat@example.test",
		"Pat.Smith+x@Mail.Example.Test",
		"pat@bücher.example",
		"pat@xn--bcher-kva.example",
		"pat@example.test\r\nRCPT TO:<x@attacker.test>",
		`"quoted"@example.test`,
		"päť@example.test",
		"pat@[192.0.2.1]",
		"pat@ｅｘａｍｐｌｅ。test",
		"pat@xn--a.example",
	} {
		f.Add(seed, "Pat")
	}

	f.Fuzz(func(t *testing.T, email, name string) {
		got, err := address.ParseWithName(name, email)
		if err != nil {
			var invalid *address.InvalidError
			if !errors.As(err, &invalid) || !errors.Is(err, address.ErrInvalid) {
				t.Fatalf("error %v is not an *InvalidError", err)
			}

			if len(email) >= 8 && strings.Contains(err.Error(), email) {
				t.Fatalf("error repeats the input")
			}

			return
		}

		for i := 0; i < len(got.Email); i++ {
			if c := got.Email[i]; c <= ' ' || c >= 0x7f {
				t.Fatalf("accepted email has byte %#x", c)
			}
		}

		if len(got.Email) > address.MaxAddressOctets {
			t.Fatalf("accepted email of %d octets", len(got.Email))
		}

		if d := got.Domain(); d != strings.ToLower(d) {
			t.Fatalf("domain not lower-case")
		}

		if !utf8.ValidString(got.Name) || strings.ContainsAny(got.Name, "\r\n\x00") {
			t.Fatalf("accepted name with a line break, NUL or invalid UTF-8")
		}

		bare, err := address.Parse(email)
		if err != nil || bare.Email != got.Email || bare.Name != "" {
			t.Fatalf("Parse disagrees with ParseWithName: %+v, %v", bare, err)
		}

		again, err := address.Parse(bare.Email)
		if err != nil || again != bare {
			t.Fatalf("Parse(Parse(x).Email) = %+v, %v; want %+v", again, err, bare)
		}

		named, err := address.ParseWithName(got.Name, got.Email)
		if err != nil || named != got {
			t.Fatalf("ParseWithName round trip = %+v, %v; want %+v", named, err, got)
		}
	})
}
