package holdout3

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
)

const earthRadiusKm = 6371.0088

func haversine(a, b Point) float64 {
	rad := func(d float64) float64 { return d * math.Pi / 180 }
	dLat, dLon := rad(b.Lat-a.Lat), rad(b.Lon-a.Lon)
	h := math.Pow(math.Sin(dLat/2), 2) + math.Cos(rad(a.Lat))*math.Cos(rad(b.Lat))*math.Pow(math.Sin(dLon/2), 2)
	return 2 * earthRadiusKm * math.Asin(math.Min(1, math.Sqrt(h)))
}

// RouteLength exercises the haversine formula summed along a slice of points (float sum in
// slice order).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func RouteLength(ctx context.Context, in In) (Out, error) {
	var km float64
	for i := 1; i < len(in.Points); i++ {
		km += haversine(in.Points[i-1], in.Points[i])
	}
	return Out{Value: math.Round(km*1000) / 1000, Count: len(in.Points)}, nil
}

type shop struct {
	name string
	at   Point
}

// shops is a read-only table of the package.
var shops = []shop{
	{"berlin-mitte", Point{52.5200, 13.4050}},
	{"hamburg-altona", Point{53.5503, 9.9350}},
	{"munich-center", Point{48.1372, 11.5756}},
	{"cologne-dom", Point{50.9413, 6.9583}},
}

type byDistance struct {
	from Point
	list []shop
}

func (d byDistance) less(i, j int) bool {
	return haversine(d.from, d.list[i].at) < haversine(d.from, d.list[j].at)
}

// NearestStores exercises a copy of a read-only package table sorted with a method value of
// a local struct as the less function.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func NearestStores(ctx context.Context, in In) (Out, error) {
	if len(in.Points) == 0 {
		return Out{}, fmt.Errorf("points: give the customer's position first")
	}
	d := byDistance{from: in.Points[0], list: append([]shop(nil), shops...)}
	sort.SliceStable(d.list, d.less)
	var out []string
	for i := 0; i < len(d.list) && i < max(in.N, 1); i++ {
		out = append(out, fmt.Sprintf("%s %.1fkm", d.list[i].name, haversine(d.from, d.list[i].at)))
	}
	return Out{Lines: out}, nil
}

// GeocodeRegional exercises http.Get of a URL whose host is built from the input region.
// expect: pure=false deterministic=false state=false eligible=true hosts=*
//
//blueprint:job
func GeocodeRegional(ctx context.Context, in In) (Out, error) {
	u := url.URL{Scheme: "https", Host: in.Region + ".geo.example.com", Path: "/v1/geocode", RawQuery: url.Values{"q": {in.Text}}.Encode()}
	resp, err := http.Get(u.String())
	if err != nil {
		return Out{}, err
	}
	defer resp.Body.Close()
	var p Point
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		return Out{}, fmt.Errorf("geocoder answer: %w", err)
	}
	return Out{Value: haversine(Point{}, p)}, nil
}

// BoundingBox exercises math.Inf, math.Min and math.Max over the points.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func BoundingBox(ctx context.Context, in In) (Out, error) {
	minLat, minLon := math.Inf(1), math.Inf(1)
	maxLat, maxLon := math.Inf(-1), math.Inf(-1)
	for _, p := range in.Points {
		minLat, maxLat = math.Min(minLat, p.Lat), math.Max(maxLat, p.Lat)
		minLon, maxLon = math.Min(minLon, p.Lon), math.Max(maxLon, p.Lon)
	}
	diag := haversine(Point{minLat, minLon}, Point{maxLat, maxLon})
	return Out{Text: fmt.Sprintf("%.4f,%.4f,%.4f,%.4f", minLat, minLon, maxLat, maxLon), Value: diag}, nil
}
