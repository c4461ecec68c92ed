package analyzer

import "testing"

func TestErrorFormat(t *testing.T) {
	err := problems{
		{Position: "/src/b.go:10:2", Message: "second"},
		{Position: "/src/b.go:9:30", Message: "first"},
		{Position: "/c:/odd/path.go:1:1", Message: "colon in the path"},
		{Message: "no position"},
	}.err()
	want := "no position\n/c:/odd/path.go:1:1: colon in the path\n/src/b.go:9:30: first\n/src/b.go:10:2: second"
	if err.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", err, want)
	}
	if (problems{}).err() != nil {
		t.Error("no problems must give a nil error")
	}
}

func TestHostOfAddress(t *testing.T) {
	for in, want := range map[string]string{
		"db.internal:5432": "db.internal",
		"[::1]:80":         "::1",
		":8080":            "*",
		"example.com":      "example.com",
		"":                 "*",
	} {
		if got := hostOfAddress(in); got != want {
			t.Errorf("hostOfAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
