package clientaddr

import "testing"

func TestTruncate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.77:5123":         "192.0.2.0/24",
		"192.0.2.77":              "192.0.2.0/24",
		"[2001:db8:1:2::7]:443":   "2001:db8:1::/48",
		"not-an-address":          "",
		"[::ffff:198.51.100.9]:1": "198.51.100.0/24",
	} {
		if got := Truncate(in); got != want {
			t.Errorf("Truncate(%q) = %q, want %q", in, got, want)
		}
	}
}
