// Package other stands for code outside the job package that the analyzer does not look into.
package other

// Double is pure, but the analyzer cannot know that from the job package.
func Double(n int) int { return 2 * n }
