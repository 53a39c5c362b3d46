package main

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"
)

// TestRunningService asks the service stackrig runs (`stackrig run -- go test ./...` exports
// SHIPPING_URL): the binary stackrig built answers as the handler does in-process.
func TestRunningService(t *testing.T) {
	base := os.Getenv("SHIPPING_URL")
	if base == "" {
		t.Skip("SHIPPING_URL is not set: run `stackrig run -- go test ./...` to test the running service too")
	}
	resp, err := http.Get(base + "/quote?weight_g=2500&country=FR")
	if err != nil {
		t.Fatalf("the running service at %s: %v", base, err)
	}
	defer resp.Body.Close()
	var body map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || body["cents"] != 990+2*250 {
		t.Fatalf("got %d %v; want 200 {\"cents\": 1490}", resp.StatusCode, body)
	}
}
