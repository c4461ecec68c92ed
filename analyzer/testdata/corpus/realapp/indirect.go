package realapp

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"text/template"
	"time"
)

// TemplateWithEnv registers os.Getenv as a template function: text/template calls it by
// reflection while executing.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func TemplateWithEnv(ctx context.Context, in In) (Out, error) {
	t, err := template.New("t").Funcs(template.FuncMap{"env": os.Getenv}).Parse(`{{env "REGION"}}: {{.}}`)
	if err != nil {
		return Out{}, err
	}
	var b strings.Builder
	err = t.Execute(&b, in.Name)
	return Out{Text: b.String()}, err
}

// TemplateWithPureFuncs registers only pure functions.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func TemplateWithPureFuncs(ctx context.Context, in In) (Out, error) {
	funcs := template.FuncMap{"upper": strings.ToUpper, "twice": func(s string) string { return s + s }}
	t, err := template.New("t").Funcs(funcs).Parse(`{{upper .}} {{twice .}}`)
	if err != nil {
		return Out{}, err
	}
	var b strings.Builder
	err = t.Execute(&b, in.Name)
	return Out{Text: b.String()}, err
}

// receipt marshals itself with the time it was marshalled.
type receipt struct{ Item string }

func (r receipt) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"item": r.Item, "printed": time.Now().UTC().Format(time.RFC3339)})
}

// ReceiptsJSON marshals a slice of receipts: encoding/json calls each element's MarshalJSON,
// which reads the clock.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ReceiptsJSON(ctx context.Context, in In) (Out, error) {
	b, err := json.Marshal(struct{ Receipts []receipt }{[]receipt{{Item: in.Name}}})
	return Out{Text: string(b)}, err
}

// apiClient has a default base URL that callers may replace.
type apiClient struct {
	base string
	http *http.Client
}

func newAPIClient() *apiClient {
	return &apiClient{base: "https://api.example.com", http: http.DefaultClient}
}

func (c *apiClient) fetch(ctx context.Context, path string) (Out, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return Out{}, err
	}
	return statusOf(c.http.Do(req))
}

// FetchFromEurope replaces the client's default base URL before any request: the request
// goes to the European host only.
// expect: pure=false deterministic=false state=false eligible=true hosts=eu.api.example.com
//
//blueprint:job
func FetchFromEurope(ctx context.Context, in In) (Out, error) {
	c := newAPIClient()
	c.base = "https://eu.api.example.com"
	return c.fetch(ctx, "/v1/items/"+in.ID)
}

// FetchDefault keeps the default base URL.
// expect: pure=false deterministic=false state=false eligible=true hosts=api.example.com
//
//blueprint:job
func FetchDefault(ctx context.Context, in In) (Out, error) {
	return newAPIClient().fetch(ctx, "/v1/items/"+in.ID)
}

var serviceURLs = map[string]string{
	"billing": "https://billing.example.com",
	"search":  "https://search.example.com",
}

// BillingStatus looks its URL up in a constant table.
// expect: pure=false deterministic=false state=false eligible=true hosts=billing.example.com
//
//blueprint:job
func BillingStatus(ctx context.Context, in In) (Out, error) {
	return statusOf(http.Get(serviceURLs["billing"] + "/status/" + in.ID))
}
