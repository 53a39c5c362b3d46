package main

import (
	"errors"
	"testing"
)

func TestQuote(t *testing.T) {
	cases := []struct {
		weight  int
		country string
		cents   int
	}{
		{0, "DE", 490},
		{1000, "DE", 490},
		{1001, "DE", 590},
		{2500, "de", 690},
		{500, "FR", 990},
		{3000, "AT", 1490},
		{1000, "US", 1990},
		{31500, "JP", 1990 + 31*500},
	}
	for _, c := range cases {
		got, err := Quote(c.weight, c.country)
		if err != nil || got != c.cents {
			t.Errorf("Quote(%d, %q) = %d, %v; want %d", c.weight, c.country, got, err, c.cents)
		}
	}
}

func TestQuoteRefuses(t *testing.T) {
	cases := []struct {
		weight  int
		country string
		status  int
		message string
	}{
		{100, "", 400, `country must be a two-letter ISO 3166 code such as DE, found ""`},
		{100, "DEU", 400, `country must be a two-letter ISO 3166 code such as DE, found "DEU"`},
		{100, "D1", 400, `country must be a two-letter ISO 3166 code such as DE, found "D1"`},
		{-1, "DE", 400, "weight_g must be 0 or more, found -1"},
		{31501, "DE", 422, "a parcel of 31501 g is over the carrier's limit of 31500 g; split the order"},
	}
	for _, c := range cases {
		_, err := Quote(c.weight, c.country)
		var qe *QuoteError
		if !errors.As(err, &qe) || qe.Status != c.status || qe.Message != c.message {
			t.Errorf("Quote(%d, %q): error %v; want %d %q", c.weight, c.country, err, c.status, c.message)
		}
	}
}
