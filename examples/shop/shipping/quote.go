package main

import (
	"fmt"
	"strings"
)

// MaxWeightG is the heaviest parcel the carrier takes (31.5 kg).
const MaxWeightG = 31500

// A zone's price: the base covers the first kilogram, each further started kilogram costs perKg.
type zone struct {
	name  string
	base  int
	perKg int
}

var (
	domestic = zone{"domestic", 490, 100}
	eu       = zone{"eu", 990, 250}
	world    = zone{"world", 1990, 500}
)

// The shop ships from Germany.
const home = "DE"

var euMembers = map[string]bool{
	"AT": true, "BE": true, "BG": true, "CY": true, "CZ": true, "DK": true, "EE": true, "ES": true, "FI": true,
	"FR": true, "GR": true, "HR": true, "HU": true, "IE": true, "IT": true, "LT": true, "LU": true, "LV": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SE": true, "SI": true, "SK": true,
}

// QuoteError is a request the carrier cannot price; Status is the HTTP status to answer.
type QuoteError struct {
	Status  int
	Message string
}

func (e *QuoteError) Error() string { return e.Message }

// Quote prices a parcel of weightG grams to country (ISO 3166-1 alpha-2, any case).
func Quote(weightG int, country string) (int, error) {
	code := strings.ToUpper(strings.TrimSpace(country))
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return 0, &QuoteError{400, fmt.Sprintf("country must be a two-letter ISO 3166 code such as DE, found %q", country)}
	}
	if weightG < 0 {
		return 0, &QuoteError{400, fmt.Sprintf("weight_g must be 0 or more, found %d", weightG)}
	}
	if weightG > MaxWeightG {
		return 0, &QuoteError{422, fmt.Sprintf("a parcel of %d g is over the carrier's limit of %d g; split the order", weightG, MaxWeightG)}
	}
	z := zoneOf(code)
	extraKg := 0
	if weightG > 1000 {
		extraKg = (weightG - 1000 + 999) / 1000
	}
	return z.base + extraKg*z.perKg, nil
}

func zoneOf(code string) zone {
	switch {
	case code == home:
		return domestic
	case euMembers[code]:
		return eu
	default:
		return world
	}
}
