package main

import (
	"encoding/hex"
	"fmt"
)

// maxPSKField is the longest identity or key TLS carries.
const maxPSKField = 65535

func setPSKUsername(o *options, v string) error {
	if v == "" || len(v) > maxPSKField {
		return fmt.Errorf("the identity must be 1 to %d bytes, got %d", maxPSKField, len(v))
	}
	o.pskUsername = v
	return nil
}

// setPSKKey decodes the key; its errors never show the key.
func setPSKKey(o *options, v string) error {
	clear(o.pskKey)
	o.pskKey = nil
	if v == "" || len(v)%2 != 0 {
		return fmt.Errorf("the key must be an even number of hex digits, got %d characters", len(v))
	}
	if len(v)/2 > maxPSKField {
		return fmt.Errorf("the key must be at most %d bytes, got %d", maxPSKField, len(v)/2)
	}
	src := []byte(v)
	defer clear(src)
	k := make([]byte, len(v)/2)
	if _, err := hex.Decode(k, src); err != nil {
		clear(k)
		return fmt.Errorf("the key is not hex")
	}
	o.pskKey = k
	return nil
}
