package holdout4

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// fieldRule is one property of a small JSON schema.
type fieldRule struct {
	kind     string // "string", "number", "bool", "array", "object"
	required bool
	min, max float64
}

// orderSchema is only written by its initializer.
var orderSchema = map[string]fieldRule{
	"id":       {kind: "string", required: true},
	"quantity": {kind: "number", required: true, min: 1, max: 1000},
	"gift":     {kind: "bool"},
	"tags":     {kind: "array"},
	"address":  {kind: "object", required: true},
}

func kindOf(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "bool"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// checkField validates one field of doc against its rule.
func checkField(doc map[string]any, name string, r fieldRule) error {
	v, ok := doc[name]
	if !ok {
		if r.required {
			return fmt.Errorf("%s: required", name)
		}
		return nil
	}
	if k := kindOf(v); k != r.kind {
		return fmt.Errorf("%s: want %s, got %s", name, r.kind, k)
	}
	if n, ok := v.(float64); ok && r.max > r.min && (n < r.min || n > r.max) {
		return fmt.Errorf("%s: %g outside [%g, %g]", name, n, r.min, r.max)
	}
	return nil
}

// ValidateOrder exercises a JSON schema validator over a read-only schema map, fields checked
// in sorted order and joined with errors.Join.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func ValidateOrder(ctx context.Context, in In) (Out, error) {
	names := make([]string, 0, len(orderSchema))
	for n := range orderSchema {
		names = append(names, n)
	}
	slices.Sort(names)
	var errs []error
	for _, n := range names {
		errs = append(errs, checkField(in.Doc, n, orderSchema[n]))
	}
	if err := errors.Join(errs...); err != nil {
		return Out{Text: err.Error()}, nil
	}
	return Out{OK: true}, nil
}

// ValidateOrderUnordered exercises the same validator iterating the schema map directly, so
// the joined message lists the problems in map order.
// expect: pure=true deterministic=false state=false eligible=true hosts=
//
//blueprint:job
func ValidateOrderUnordered(ctx context.Context, in In) (Out, error) {
	var errs []error
	for n, r := range orderSchema {
		errs = append(errs, checkField(in.Doc, n, r))
	}
	if err := errors.Join(errs...); err != nil {
		return Out{Text: err.Error()}, nil
	}
	return Out{OK: true}, nil
}

// CountSchemaErrors exercises the unordered iteration where only the count reaches the output.
// expect: pure=true deterministic=true state=false eligible=true hosts=
//
//blueprint:job
func CountSchemaErrors(ctx context.Context, in In) (Out, error) {
	n := 0
	for name, r := range orderSchema {
		if checkField(in.Doc, name, r) != nil {
			n++
		}
	}
	return Out{Count: n, OK: n == 0}, nil
}
