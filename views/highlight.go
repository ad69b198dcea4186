package views

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// Syntax colouring: Fyne's Entry draws its text in one colour, so the
// editor stacks the Entry, with transparent text and background, over a
// RichText holding the same text in colour. Both lay text out the same
// way (same style, same insets), so the cursor and the selection of the
// Entry fall on the coloured characters.

// dockerfileSegments colours Dockerfile source: instructions, comments
// and directives, flags, variables and quoted strings.
func dockerfileSegments(src string) []widget.RichTextSegment {
	mono := fyne.TextStyle{Monospace: true}
	var segs []widget.RichTextSegment
	add := func(text string, c fyne.ThemeColorName, bold bool) {
		if text == "" {
			return
		}
		st := mono
		st.Bold = bold
		segs = append(segs, &widget.TextSegment{Text: text, Style: widget.RichTextStyle{TextStyle: st, ColorName: c, Inline: true}})
	}
	lines := strings.Split(src, "\n")
	continued := false
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " \t")
		indent := line[:len(line)-len(trimmed)]
		switch {
		case strings.HasPrefix(trimmed, "#"):
			add(line, theme.ColorNamePlaceHolder, false)
		default:
			add(indent, theme.ColorNameForeground, false)
			rest := trimmed
			if !continued {
				kw, after, _ := strings.Cut(trimmed, " ")
				if _, ok := instructionWords[strings.ToUpper(kw)]; ok {
					add(kw, theme.ColorNamePrimary, false) // no bold: few monospace fonts have a bold face
					if len(after) < len(trimmed)-len(kw) {
						add(" ", theme.ColorNameForeground, false)
					}
					rest = after
				}
			}
			colourArgs(rest, add)
		}
		continued = strings.HasSuffix(strings.TrimRight(line, " \t"), "\\")
		if i < len(lines)-1 {
			add("\n", theme.ColorNameForeground, false)
		}
	}
	return segs
}

var instructionWords = map[string]bool{"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "MAINTAINER": true, "EXPOSE": true, "ENV": true, "ADD": true, "COPY": true,
	"ENTRYPOINT": true, "VOLUME": true, "USER": true, "WORKDIR": true, "ARG": true, "ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true, "AS": true}

// colourArgs colours an instruction's arguments word by word.
func colourArgs(s string, add func(string, fyne.ThemeColorName, bool)) {
	for len(s) > 0 {
		switch c := s[0]; {
		case c == '"' || c == '\'':
			end := strings.IndexByte(s[1:], c)
			if end < 0 {
				add(s, theme.ColorNameSuccess, false)
				return
			}
			add(s[:end+2], theme.ColorNameSuccess, false)
			s = s[end+2:]
		case c == '$':
			n := 1
			if len(s) > 1 && s[1] == '{' {
				if e := strings.IndexByte(s, '}'); e > 0 {
					n = e + 1
				}
			} else {
				for n < len(s) && (s[n] == '_' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= '0' && s[n] <= '9') {
					n++
				}
			}
			add(s[:n], theme.ColorNameWarning, false)
			s = s[n:]
		case c == '-' && len(s) > 1 && s[1] == '-':
			n := strings.IndexAny(s, " \t")
			if n < 0 {
				n = len(s)
			}
			add(s[:n], theme.ColorNameHyperlink, false)
			s = s[n:]
		default:
			n := strings.IndexAny(s, "\"'$")
			if i := strings.Index(s, " --"); i >= 0 && (n < 0 || i+1 < n) {
				n = i + 1
			}
			if n <= 0 {
				n = len(s)
			}
			colourNumbers(s[:n], add)
			s = s[n:]
		}
	}
}

// colourNumbers colours the numbers in plain text (ports, versions, sizes),
// so a zero never reads as the letter O, which the monospace font draws
// nearly alike. Digits inside a word (python3) stay as they are.
func colourNumbers(s string, add func(string, fyne.ThemeColorName, bool)) {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	isWord := func(c byte) bool { return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' }
	start := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || i > 0 && (isWord(s[i-1]) || isDigit(s[i-1])) {
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j < len(s) && isWord(s[j]) { // 2nd, 64bit: part of a word
			i = j
			continue
		}
		add(s[start:i], theme.ColorNameForeground, false)
		add(s[i:j], theme.ColorNameWarning, false)
		start, i = j, j
	}
	add(s[start:], theme.ColorNameForeground, false)
}

// clearTextTheme hides an Entry's own text and background, leaving its
// cursor and selection.
type clearTextTheme struct{ fyne.Theme }

func (t clearTextTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	switch n {
	case theme.ColorNameForeground, theme.ColorNameInputBackground, theme.ColorNameDisabled:
		return color.Transparent
	}
	return t.Theme.Color(n, v)
}
