package httpapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequireBearer(t *testing.T) {
	rejected := 0
	h := RequireBearer("s3cret", "test", "the test's token", func() { rejected++ }, func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"ok": "yes"})
	})
	for auth, want := range map[string]int{"": 401, "Bearer wrong": 401, "bearer s3cret": 401, "Bearer s3cret": 200, "Bearer s3cret ": 401} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		h(rec, req)
		if rec.Code != want {
			t.Errorf("%q: %d, want %d", auth, rec.Code, want)
		}
		if want == 401 {
			var body ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != CodeUnauthorized || !strings.Contains(body.Error.Message, "the test's token") {
				t.Errorf("%q: body %s (%v)", auth, rec.Body, err)
			}
			if rec.Header().Get("WWW-Authenticate") != `Bearer realm="test"` {
				t.Errorf("%q: no challenge", auth)
			}
		}
	}
	if rejected != 4 {
		t.Errorf("rejected told %d times, want 4", rejected)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"LOCALHOST": false, "0.0.0.0": false, "10.0.0.1": false, "example.com": false, "": false, "127.0.0.1:80": false} {
		if got := IsLoopbackHost(host); got != want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}
