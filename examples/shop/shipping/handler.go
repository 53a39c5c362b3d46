package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strconv"
	"time"
)

// NewHandler is the service's HTTP API: GET /quote?weight_g=N&country=CC and GET /health.
func NewHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		if !allowGet(w, r) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("/quote", quote)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no route %s %s", r.Method, r.URL.Path)})
	})
	return mux
}

func quote(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	q := r.URL.Query()
	raw := q.Get("weight_g")
	weight, err := strconv.Atoi(raw)
	if raw == "" || err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{
			"error": fmt.Sprintf("weight_g must be a whole number of grams, found %q", raw)})
		return
	}
	cents, err := Quote(weight, q.Get("country"))
	var qe *QuoteError
	if errors.As(err, &qe) {
		writeJSON(w, qe.Status, map[string]string{"error": qe.Message})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"cents": cents})
}

func allowGet(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "only GET is allowed"})
	return false
}

func writeJSON(w http.ResponseWriter, status int, body interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// logRequests writes one line per request to the service's log (stackrig shows it for failing tests).
func logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Printf("%s %s -> %d in %s", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond))
	})
}
