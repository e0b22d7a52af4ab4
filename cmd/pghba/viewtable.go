package main

// This file is the printing of a view's rows as psql prints a query result
// (aligned), or as JSON: the output of pghba rules.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// viewCell is one value of a result table.
type viewCell struct {
	null  bool
	num   bool     // an integer column: right-aligned, a JSON number
	array bool     // a text[] column
	s     string   // text and numbers
	a     []string // arrays
}

func textCell(s string, ok bool) viewCell    { return viewCell{s: s, null: !ok} }
func numCell(n int, ok bool) viewCell        { return viewCell{s: strconv.Itoa(n), num: true, null: !ok} }
func arrayCell(a []string, ok bool) viewCell { return viewCell{a: a, array: true, null: !ok} }

// viewTable is a query result: column names and rows.
type viewTable struct {
	cols    []string
	numeric []bool
	rows    [][]viewCell
}

func (t *viewTable) setNumeric() {
	t.numeric = make([]bool, len(t.cols))
	for i, c := range t.cols {
		t.numeric[i] = c == "rule_number" || c == "line_number" || c == "map_number"
	}
}

// arrayText is PostgreSQL's text form of a text[] ({a,"b c"}).
func arrayText(a []string) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, s := range a {
		if i > 0 {
			b.WriteByte(',')
		}
		if s == "" || strings.EqualFold(s, "NULL") || strings.ContainsAny(s, "{},\"\\ \t\n\r\v\f") {
			b.WriteByte('"')
			for _, c := range []byte(s) {
				if c == '"' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
			b.WriteByte('"')
			continue
		}
		b.WriteString(s)
	}
	b.WriteByte('}')
	return b.String()
}

func (c viewCell) display() string {
	switch {
	case c.null:
		return ""
	case c.array:
		return arrayText(c.a)
	}
	return c.s
}

// width is the display width psql gives a value: one column per character.
func displayWidth(s string) int { return utf8.RuneCountInString(s) }

// writeAligned prints the table as psql's aligned format does.
func (t *viewTable) writeAligned(w io.Writer) {
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = displayWidth(c)
	}
	texts := make([][]string, len(t.rows))
	for r, row := range t.rows {
		texts[r] = make([]string, len(row))
		for i, c := range row {
			texts[r][i] = c.display()
			widths[i] = max(widths[i], displayWidth(texts[r][i]))
		}
	}
	var b strings.Builder
	for i, c := range t.cols {
		if i > 0 {
			b.WriteString(" |")
		}
		pad := widths[i] - displayWidth(c)
		b.WriteString(" " + strings.Repeat(" ", pad/2) + c + strings.Repeat(" ", pad-pad/2))
	}
	b.WriteString(" \n")
	for i := range t.cols {
		if i > 0 {
			b.WriteByte('+')
		}
		b.WriteString(strings.Repeat("-", widths[i]+2))
	}
	b.WriteByte('\n')
	for _, row := range texts {
		for i, s := range row {
			if i > 0 {
				b.WriteString(" |")
			}
			pad := strings.Repeat(" ", widths[i]-displayWidth(s))
			switch {
			case t.numeric[i]:
				b.WriteString(" " + pad + s)
			case i == len(row)-1:
				b.WriteString(" " + s)
			default:
				b.WriteString(" " + s + pad)
			}
		}
		b.WriteByte('\n')
	}
	if len(t.rows) == 1 {
		b.WriteString("(1 row)\n\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n\n", len(t.rows))
	}
	io.WriteString(w, b.String())
}

// writeJSON prints the rows as a JSON array of objects, one row per line.
func (t *viewTable) writeJSON(w io.Writer) {
	var b strings.Builder
	b.WriteString("[")
	for r, row := range t.rows {
		if r > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for i, c := range row {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(jsonQuote(t.cols[i]) + ":")
			switch {
			case c.null:
				b.WriteString("null")
			case c.num:
				b.WriteString(c.s)
			case c.array:
				b.WriteString("[")
				for k, s := range c.a {
					if k > 0 {
						b.WriteString(",")
					}
					b.WriteString(jsonQuote(s))
				}
				b.WriteString("]")
			default:
				b.WriteString(jsonQuote(c.s))
			}
		}
		b.WriteString("}")
	}
	if len(t.rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	io.WriteString(w, b.String())
}

func jsonQuote(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
