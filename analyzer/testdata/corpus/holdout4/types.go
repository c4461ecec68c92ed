// Package holdout4 is the fourth held-out set of corpus jobs, labelled from the DESIGN.md
// definitions before the analyzer was run on them; the jobs are ETL steps, invoices, a search
// index, a URL shortener, e-mail templates, images, graphs, schema checks, feature extraction,
// HTTP fan-out through helper structs, caches, time zones, randomness, HMAC and notifiers.
package holdout4

// In is the input of every job in this package.
type In struct {
	Text    string             `json:"text"`
	Key     string             `json:"key"`
	Host    string             `json:"host"`
	From    string             `json:"from"`
	To      string             `json:"to"`
	N       int                `json:"n"`
	Lines   []string           `json:"lines"`
	Items   []string           `json:"items"`
	Amounts []string           `json:"amounts"`
	Pixels  []uint32           `json:"pixels"`
	Edges   []Edge             `json:"edges"`
	Doc     map[string]any     `json:"doc"`
	Weights map[string]float64 `json:"weights"`
}

// Edge is a weighted directed edge of a graph.
type Edge struct {
	From string `json:"from"`
	To   string `json:"to"`
	W    int    `json:"w"`
}

// Out is the output of every job in this package.
type Out struct {
	Text  string   `json:"text"`
	Lines []string `json:"lines"`
	Value float64  `json:"value"`
	Count int      `json:"count"`
	OK    bool     `json:"ok"`
}
