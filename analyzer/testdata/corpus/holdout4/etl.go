package holdout4

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
)

// rowsLoaded counts rows every ETL run has loaded since the process started.
var rowsLoaded atomic.Int64

// readRows parses CSV text with a header line into one map per row.
func readRows(text string) ([]map[string]string, error) {
	r := csv.NewReader(strings.NewReader(text))
	records, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("csv: missing header line")
	}
	header := records[0]
	rows := make([]map[string]string, 0, len(records)-1)
	for _, rec := range records[1:] {
		row := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(rec) {
				row[h] = rec[i]
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// groupTotals sums the integer column "amount" per value of the column "region".
func groupTotals(rows []map[string]string) (map[string]int, error) {
	totals := map[string]int{}
	for i, row := range rows {
		n, err := strconv.Atoi(row["amount"])
		if err != nil {
			return nil, fmt.Errorf("row %d amount: %w", i+1, err)
		}
		totals[row["region"]] += n
	}
	return totals, nil
}

// CSVToJSON exercises an ETL step: CSV rows to JSON objects (encoding/json sorts map keys).
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CSVToJSON(ctx context.Context, in In) (Out, error) {
	rows, err := readRows(in.Text)
	if err != nil {
		return Out{}, err
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return Out{}, err
	}
	return Out{Text: string(b), Count: len(rows)}, nil
}

// ETLRegionTotals exercises per-region totals emitted in map iteration order (unsorted).
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ETLRegionTotals(ctx context.Context, in In) (Out, error) {
	rows, err := readRows(in.Text)
	if err != nil {
		return Out{}, err
	}
	totals, err := groupTotals(rows)
	if err != nil {
		return Out{}, err
	}
	var lines []string
	for region, total := range totals {
		lines = append(lines, region+"="+strconv.Itoa(total))
	}
	return Out{Lines: lines}, nil
}

// ETLRegionTotalsSorted exercises the same totals with the regions sorted first.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ETLRegionTotalsSorted(ctx context.Context, in In) (Out, error) {
	rows, err := readRows(in.Text)
	if err != nil {
		return Out{}, err
	}
	totals, err := groupTotals(rows)
	if err != nil {
		return Out{}, err
	}
	regions := make([]string, 0, len(totals))
	for r := range totals {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	lines := make([]string, len(regions))
	for i, r := range regions {
		lines[i] = fmt.Sprintf("%s=%d", r, totals[r])
	}
	return Out{Lines: lines}, nil
}

// ETLLoadCounted exercises an atomic package-level counter bumped with its result dropped
// (reading: a write whose value never reaches the output keeps the job deterministic).
// expect: pure=false deterministic=true state=true eligible=false hosts=
//
//blueprint:job
func ETLLoadCounted(ctx context.Context, in In) (Out, error) {
	rows, err := readRows(in.Text)
	if err != nil {
		return Out{}, err
	}
	rowsLoaded.Add(int64(len(rows)))
	return Out{Count: len(rows)}, nil
}
