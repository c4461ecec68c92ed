// Package holdout3 is the third held-out set of corpus jobs, labelled from the DESIGN.md
// definitions before the analyzer was run on them; the jobs are written the way services in
// a few domains are (pricing, logs, images, markdown, geo, feature flags, webhooks, SQL,
// object keys, rate limits, config) and call the helper packages money, hook and store.
package holdout3

// In is the input of every job in this package.
type In struct {
	Text    string             `json:"text"`
	ID      string             `json:"id"`
	Key     string             `json:"key"`
	Region  string             `json:"region"`
	Tenant  string             `json:"tenant"`
	N       int                `json:"n"`
	Lines   []string           `json:"lines"`
	Items   []string           `json:"items"`
	Prices  []string           `json:"prices"`
	Points  []Point            `json:"points"`
	Qty     map[string]int     `json:"qty"`
	Revenue map[string]float64 `json:"revenue"`
	Filters map[string]string  `json:"filters"`
}

// Point is a latitude/longitude pair in degrees.
type Point struct {
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
}

// Out is the output of every job in this package.
type Out struct {
	Text  string   `json:"text"`
	Lines []string `json:"lines"`
	Value float64  `json:"value"`
	Count int      `json:"count"`
	OK    bool     `json:"ok"`
}
