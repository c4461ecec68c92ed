// Package httpapi holds what the agent's and the host's HTTP APIs share: JSON answers, the
// error body every error has, the bearer-token check, and what counts as this machine.
package httpapi

import (
	"crypto/subtle"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
)

// ErrorResponse is the body of every error both APIs send: {"error": {"code", "message"}},
// plus the job's error type for job errors.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody describes an error. Code is one of a fixed set per API (documented); Type is
// set for job errors only (the job's error type).
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Type    string `json:"type,omitempty"`
}

// WriteJSON answers with v as JSON and a Content-Length.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data = []byte(`{"error":{"code":"internal","message":"encoding the response failed"}}`)
	}
	data = append(data, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(status)
	w.Write(data)
}

// WriteError answers with the error body.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	WriteJSON(w, status, ErrorResponse{Error: ErrorBody{Code: code, Message: message}})
}

// CodeUnauthorized is the error code of a request without the right token.
const CodeUnauthorized = "unauthorized"

// RequireBearer lets through requests that carry "Authorization: Bearer <token>", compared in
// constant time, and answers the others 401 with a WWW-Authenticate challenge for realm and a
// message that ends with hint (where the token comes from). rejected, when set, hears of
// every refusal (metrics).
func RequireBearer(token, realm, hint string, rejected func(), next http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + token)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			if rejected != nil {
				rejected()
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`"`)
			WriteError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong token: send Authorization: Bearer <token> ("+hint+")")
			return
		}
		next(w, r)
	}
}

// IsLoopbackHost reports whether a host name (without a port) is this machine's loopback
// interface: "localhost" or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
