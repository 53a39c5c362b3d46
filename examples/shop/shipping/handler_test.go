package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string) (int, map[string]interface{}) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q, want application/json", method, target, ct)
	}
	var body map[string]interface{}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", method, target, rec.Body.String(), err)
	}
	return rec.Code, body
}

func TestHandlerQuote(t *testing.T) {
	status, body := get(t, NewHandler(), "GET", "/quote?weight_g=1500&country=DE")
	if status != 200 || body["cents"] != float64(590) || len(body) != 1 {
		t.Fatalf("got %d %v; want 200 {\"cents\": 590}", status, body)
	}
}

func TestHandlerErrors(t *testing.T) {
	h := NewHandler()
	cases := []struct {
		method, target string
		status         int
		message        string
	}{
		{"GET", "/quote?country=DE", 400, `weight_g must be a whole number of grams, found ""`},
		{"GET", "/quote?weight_g=heavy&country=DE", 400, `weight_g must be a whole number of grams, found "heavy"`},
		{"GET", "/quote?weight_g=99999&country=DE", 422, "a parcel of 99999 g is over the carrier's limit of 31500 g; split the order"},
		{"POST", "/quote?weight_g=1&country=DE", 405, "only GET is allowed"},
		{"GET", "/nope", 404, "no route GET /nope"},
	}
	for _, c := range cases {
		status, body := get(t, h, c.method, c.target)
		if status != c.status || body["error"] != c.message {
			t.Errorf("%s %s = %d %v; want %d %q", c.method, c.target, status, body, c.status, c.message)
		}
	}
}

func TestHealth(t *testing.T) {
	if status, body := get(t, NewHandler(), "GET", "/health"); status != 200 || body["status"] != "ok" {
		t.Fatalf("got %d %v", status, body)
	}
}
