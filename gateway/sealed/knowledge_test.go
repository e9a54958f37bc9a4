package sealed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/sealed"
)

func TestNormalizeKnowledge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"iso date", "1980-07-04", "1980-07-04"},
		{"iso date single digits", "1980-7-4", "1980-07-04"},
		{"us date", "07/04/1980", "1980-07-04"},
		{"us date single digits", " 7/4/1980 ", "1980-07-04"},
		{"leap day", "02/29/2000", "2000-02-29"},
		{"not a day stays text", "02/30/1980", "02/30/1980"},
		{"month 13 stays text", "1980-13-01", "1980-13-01"},
		{"two-digit year stays text", "7/4/80", "7/4/80"},
		{"fullwidth digits", "１９８０-０７-０４", "1980-07-04"},
		{"zip", "02139", "02139"},
		{"zip plus four", "02139-4307", "02139"},
		{"zip plus four spaced", "02139 4307", "02139"},
		{"zip nine digits", "021394307", "02139"},
		{"six digits stay text", "021394", "021394"},
		{"case and space", "  Maple   STREET ", "maple street"},
		{"german sharp s folds", "Straße", "strasse"},
		{"blank", " \t\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := sealed.NormalizeKnowledge(tt.in); got != tt.want {
				t.Fatalf("NormalizeKnowledge(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestKnowledgeHashVerify(t *testing.T) {
	t.Parallel()
	dob, err := sealed.HashKnowledge("1980-07-04")
	if err != nil {
		t.Fatal(err)
	}
	zip, err := sealed.HashKnowledge("02139-4307")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(dob, "1980") || strings.Contains(zip, "02139") {
		t.Fatal("hash carries the answer")
	}
	if !strings.HasPrefix(dob, "$argon2id$v=19$m=47104,t=1,p=1$") {
		t.Fatalf("unexpected encoding prefix: %s", dob[:strings.LastIndex(dob, "$")])
	}
	if sealed.NeedsRehash(dob) {
		t.Fatal("a fresh hash needs rehashing")
	}

	tests := []struct {
		name, encoded, answer string
		want                  bool
	}{
		{"dob exact", dob, "1980-07-04", true},
		{"dob us form", dob, "07/04/1980", true},
		{"dob short us form", dob, "7/4/1980", true},
		{"dob wrong day", dob, "1980-07-05", false},
		{"dob swapped month and day", dob, "04/07/1980", false},
		{"dob empty", dob, "", false},
		{"zip five", zip, "02139", true},
		{"zip other plus four", zip, "02139-0001", true},
		{"zip wrong", zip, "02138", false},
		{"zip on dob hash", dob, "02139", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sealed.VerifyKnowledge(tt.encoded, tt.answer)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("VerifyKnowledge = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestKnowledgeHashSalted(t *testing.T) {
	t.Parallel()
	a, err := sealed.HashKnowledge("02139")
	if err != nil {
		t.Fatal(err)
	}
	b, err := sealed.HashKnowledge("02139")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two hashes of one answer are equal: salt missing")
	}
}

func TestHashKnowledgeRefusesEmpty(t *testing.T) {
	t.Parallel()
	if _, err := sealed.HashKnowledge("  "); !errors.Is(err, sealed.ErrEmptyAnswer) {
		t.Fatalf("err = %v", err)
	}
}

func TestVerifyKnowledgeMalformed(t *testing.T) {
	t.Parallel()
	const salt, sum = "c2FsdHNhbHRzYWx0c2FsdA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	tests := []struct {
		name, encoded string
	}{
		{"empty", ""},
		{"argon2i", "$argon2i$v=19$m=8,t=1,p=1$" + salt + "$" + sum},
		{"old version", "$argon2id$v=16$m=8,t=1,p=1$" + salt + "$" + sum},
		{"huge memory", "$argon2id$v=19$m=4194304,t=1,p=1$" + salt + "$" + sum},
		{"many passes", "$argon2id$v=19$m=8,t=100,p=1$" + salt + "$" + sum},
		{"zero threads", "$argon2id$v=19$m=8,t=1,p=0$" + salt + "$" + sum},
		{"memory below 8 per lane", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + sum},
		{"signed param", "$argon2id$v=19$m=+8,t=1,p=1$" + salt + "$" + sum},
		{"params out of order", "$argon2id$v=19$t=1,m=8,p=1$" + salt + "$" + sum},
		{"short salt", "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$" + sum},
		{"padded salt", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "==$" + sum},
		{"short hash", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$AAAA"},
		{"extra field", "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + sum + "$"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := sealed.VerifyKnowledge(tt.encoded, "02139")
			if ok || !errors.Is(err, sealed.ErrKnowledgeFormat) {
				t.Fatalf("VerifyKnowledge = %v, %v", ok, err)
			}
			if strings.Contains(err.Error(), "02139") {
				t.Fatal("error echoes the answer")
			}
			if !sealed.NeedsRehash(tt.encoded) {
				t.Fatal("a malformed hash does not need rehashing")
			}
		})
	}

	t.Run("small valid parameters verify", func(t *testing.T) {
		t.Parallel()
		enc := "$argon2id$v=19$m=8,t=1,p=1$" + salt + "$" + sum
		ok, err := sealed.VerifyKnowledge(enc, "02139")
		if ok || err != nil {
			t.Fatalf("VerifyKnowledge = %v, %v; want false, nil", ok, err)
		}
		if !sealed.NeedsRehash(enc) {
			t.Fatal("weak parameters do not need rehashing")
		}
	})
}
