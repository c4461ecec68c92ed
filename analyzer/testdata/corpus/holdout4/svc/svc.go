package svc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

const (
	inventoryBase = "https://inventory.example.com"
	ratesBase     = "https://rates.example.com"
	taxBase       = "https://tax.example.com"
)

// Client talks JSON to one service.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client for the service at base (scheme and host, no trailing slash).
func New(base string) *Client {
	return &Client{base: base, hc: &http.Client{Timeout: 5 * time.Second}}
}

// NewInventory returns the inventory service's client.
func NewInventory() *Client { return New(inventoryBase) }

// NewRates returns the exchange-rate service's client.
func NewRates() *Client { return New(ratesBase) }

// NewTax returns the tax service's client.
func NewTax() *Client { return New(taxBase) }

// GetJSON fetches base+path and decodes the JSON answer into v.
func (c *Client) GetJSON(ctx context.Context, path string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s%s: %s", c.base, path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
