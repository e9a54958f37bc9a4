package sealed

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// The argon2id parameters for new knowledge hashes: 46 MiB of memory, one
// pass, one lane, a 128-bit salt and a 256-bit hash. One hash takes about
// 35 ms on a two-core build machine (BenchmarkHashKnowledge). Stored hashes
// carry their own parameters, so raising these later leaves old hashes
// verifiable; NeedsRehash tells when to replace one.
const (
	KnowledgeMemoryKiB = 46 * 1024
	KnowledgeTime      = 1
	KnowledgeThreads   = 1
	knowledgeSaltLen   = 16
	knowledgeHashLen   = 32
)

// Bounds on the parameters VerifyKnowledge accepts from a stored hash, so a
// corrupt or hostile row cannot make one check take gigabytes or minutes.
const (
	maxKnowledgeMemoryKiB = 1 << 20 // 1 GiB
	maxKnowledgeTime      = 16
	maxKnowledgeThreads   = 16
	minKnowledgeSaltLen   = 8
	maxKnowledgeSaltLen   = 64
	minKnowledgeHashLen   = 16
	maxKnowledgeHashLen   = 64
)

// argon2Version is the only argon2 version golang.org/x/crypto computes.
const argon2Version = argon2.Version

var (
	isoDate = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})$`)
	usDate  = regexp.MustCompile(`^(\d{1,2})/(\d{1,2})/(\d{4})$`)
	zipCode = regexp.MustCompile(`^(\d{5})(?:[- ]?\d{4})?$`)
)

// knowledgeParams are the argon2id settings of one hash.
type knowledgeParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

var currentKnowledgeParams = knowledgeParams{
	memory:  KnowledgeMemoryKiB,
	time:    KnowledgeTime,
	threads: KnowledgeThreads,
}

// HashKnowledge normalises a knowledge-check answer (see NormalizeKnowledge)
// and returns its argon2id hash in the self-describing form
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>
//
// with salt and hash in unpadded standard base64. Only this string is
// stored; the answer itself never is.
func HashKnowledge(answer string) (string, error) {
	normal := NormalizeKnowledge(answer)
	if normal == "" {
		return "", ErrEmptyAnswer
	}
	salt := make([]byte, knowledgeSaltLen)
	_, _ = rand.Read(salt)
	p := currentKnowledgeParams
	sum := argon2.IDKey([]byte(normal), salt, p.time, p.memory, p.threads, knowledgeHashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(sum)), nil
}

// VerifyKnowledge reports whether answer, once normalised, matches the
// stored hash. The hashes are compared in constant time. An error (matching
// ErrKnowledgeFormat) means the stored hash is unusable, not that the answer
// is wrong; an empty answer is simply wrong.
func VerifyKnowledge(encoded, answer string) (bool, error) {
	p, salt, want, err := parseKnowledgeHash(encoded)
	if err != nil {
		return false, err
	}
	normal := NormalizeKnowledge(answer)
	if normal == "" {
		return false, nil
	}
	got := argon2.IDKey([]byte(normal), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash reports whether a stored hash uses parameters other than the
// current ones, so the caller can replace it after a successful check.
func NeedsRehash(encoded string) bool {
	p, salt, sum, err := parseKnowledgeHash(encoded)
	return err != nil || p != currentKnowledgeParams ||
		len(salt) != knowledgeSaltLen || len(sum) != knowledgeHashLen
}

// NormalizeKnowledge puts a knowledge-check answer into canonical form, so
// the same fact typed differently hashes the same:
//
//   - Unicode NFKC, case folding, surrounding space trimmed and inner runs
//     of space collapsed to one;
//   - a date written YYYY-MM-DD or MM/DD/YYYY (one- or two-digit month and
//     day) that names a real calendar day becomes YYYY-MM-DD;
//   - a US ZIP code written as 5 digits, or ZIP+4 as 9 digits with an
//     optional hyphen or space, becomes its first 5 digits.
//
// Anything else stays as normalised text. Knowledge checks are dates of
// birth and ZIP codes, so the shapes need no declared kind.
func NormalizeKnowledge(answer string) string {
	s := cases.Fold().String(norm.NFKC.String(answer))
	s = strings.Join(strings.Fields(s), " ")

	if m := isoDate.FindStringSubmatch(s); m != nil {
		if d, ok := calendarDate(m[1], m[2], m[3]); ok {
			return d
		}
	}
	if m := usDate.FindStringSubmatch(s); m != nil {
		if d, ok := calendarDate(m[3], m[1], m[2]); ok {
			return d
		}
	}
	if m := zipCode.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return s
}

// calendarDate returns YYYY-MM-DD if the parts name a real day.
func calendarDate(year, month, day string) (string, bool) {
	y, _ := strconv.Atoi(year)
	m, _ := strconv.Atoi(month)
	d, _ := strconv.Atoi(day)
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != m || t.Day() != d {
		return "", false
	}
	return t.Format(time.DateOnly), true
}

// parseKnowledgeHash reads the form HashKnowledge writes and checks every
// parameter against its bound.
func parseKnowledgeHash(encoded string) (knowledgeParams, []byte, []byte, error) {
	var p knowledgeParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" ||
		parts[2] != "v="+strconv.Itoa(argon2Version) {
		return p, nil, nil, ErrKnowledgeFormat
	}

	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return p, nil, nil, ErrKnowledgeFormat
	}
	m, okM := knowledgeParam(fields[0], "m=", maxKnowledgeMemoryKiB)
	t, okT := knowledgeParam(fields[1], "t=", maxKnowledgeTime)
	th, okP := knowledgeParam(fields[2], "p=", maxKnowledgeThreads)
	if !okM || !okT || !okP || m < 8*th {
		return p, nil, nil, ErrKnowledgeFormat
	}
	p = knowledgeParams{memory: uint32(m), time: uint32(t), threads: uint8(th)}

	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < minKnowledgeSaltLen || len(salt) > maxKnowledgeSaltLen {
		return p, nil, nil, ErrKnowledgeFormat
	}
	sum, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(sum) < minKnowledgeHashLen || len(sum) > maxKnowledgeHashLen {
		return p, nil, nil, ErrKnowledgeFormat
	}
	return p, salt, sum, nil
}

// knowledgeParam parses "<prefix><decimal>" with a value in [1, limit].
func knowledgeParam(field, prefix string, limit uint64) (uint64, bool) {
	digits, ok := strings.CutPrefix(field, prefix)
	if !ok || digits == "" || digits[0] == '+' || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 32)
	if err != nil || v < 1 || v > limit {
		return 0, false
	}
	return v, true
}
