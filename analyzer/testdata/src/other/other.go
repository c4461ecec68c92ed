// Package other is code outside the job package: the analyzer walks it like the job's own.
package other

import "os"

// Double is pure.
func Double(n int) int { return 2 * n }

// Save writes a file two calls away from the job that uses it.
func Save(name string, data []byte) error { return persist(name, data) }

func persist(name string, data []byte) error { return os.WriteFile(name, data, 0o600) }
