package holdout2

import (
	"strings"
	"unicode"
)

func init() {
	register("title", func(in In) (Out, error) {
		words := strings.Fields(in.Text)
		for i, w := range words {
			r := []rune(w)
			r[0] = unicode.ToUpper(r[0])
			words[i] = string(r)
		}
		return Out{Text: strings.Join(words, " ")}, nil
	})
	register("count", countWords)
}

func countWords(in In) (Out, error) {
	return Out{Count: len(strings.Fields(in.Text))}, nil
}
