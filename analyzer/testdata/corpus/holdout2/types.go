// Package holdout2 is the second held-out set of corpus jobs, labelled from the DESIGN.md
// definitions before the analyzer was run on them; the jobs are split over several files and
// call the helper packages mw, rpc and audit.
package holdout2

// In is the input of every job in this package.
type In struct {
	Text    string         `json:"text"`
	ID      string         `json:"id"`
	Region  string         `json:"region"`
	Regions []string       `json:"regions"`
	Op      string         `json:"op"`
	Token   string         `json:"token"`
	N       int            `json:"n"`
	Epoch   int64          `json:"epoch"`
	Numbers []float64      `json:"numbers"`
	Items   []string       `json:"items"`
	Counts  map[string]int `json:"counts"`
}

// Out is the output of every job in this package.
type Out struct {
	Text  string   `json:"text"`
	Lines []string `json:"lines"`
	Value float64  `json:"value"`
	Count int      `json:"count"`
}
